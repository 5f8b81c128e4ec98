"""`python -m weightreel.formats.trust FILE`: the child process of check_untrusted."""

import signal
import sys

from .first_reads import main

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent reports Ctrl-C; die quietly
    sys.exit(main(sys.argv[1:]))
