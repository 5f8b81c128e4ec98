"""The file object a writer hands to HDF5 (h5py's "fileobj" driver): it sees every write.

Why: when HDF5 flushes, it writes changed metadata first and the superblock last. A growth
event can put a new chunk-index node past the end address (EOA) in the superblock on disk;
killed between the two writes, the file holds a node HDF5 refuses to read ("addr overflow").

The guard closes that window. Before any write past the on-disk end address, it first makes
the file long enough and raises the end address in the on-disk superblock (a version-0
superblock, which has no checksum); it never lets HDF5 lower that address while the file is
open. So at every moment the superblock on disk covers every byte HDF5 has written, and the
file is at least as long as its end address. `finish` writes HDF5's own end address back
once the file is closed and everything is on disk.

Ordering follows from how the writer uses the file: row data is written (or already lies in
chunks allocated earlier), then HDF5 flushes its metadata through the guard, then the
superblock, and only then is the committed count written and flushed.
"""

from __future__ import annotations

import os

import h5py

SIGNATURE = b"\x89HDF\r\n\x1a\n"
_EOA_AT = 40  # version-0 superblock, 8-byte addresses: end-of-address field at bytes 40..48
_BASE_AT = 24
_HEADROOM = 1 << 20  # the end address is raised in steps of at least this much


class GuardedFile:
    """A file-like object over a descriptor, for `h5py.File(GuardedFile(fd), mode)`.

    Args:
        fd: a descriptor opened for reading and writing; the guard does not own it.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pos = 0
        self._size = os.fstat(fd).st_size
        self._base = 0
        self._disk_end: int | None = None  # base + EOA in the superblock on disk (None: off)
        self.hdf5_end: int | None = None  # the end address HDF5 itself last wrote
        self.writes = 0  # how many writes HDF5 made (a refused append must make none)
        self.failure: OSError | None = None  # the first write error (HDF5 reports it poorly)
        self._hide_eof = False
        head = os.pread(fd, 48, 0)
        if _is_v0(head):
            self._base = int.from_bytes(head[_BASE_AT:_BASE_AT + 8], "little")
            self.hdf5_end = self._base + int.from_bytes(head[_EOA_AT:_EOA_AT + 8], "little")
            self._disk_end = self.hdf5_end

    # ----------------------------------------------------------------- what h5py calls
    def read(self, n: int = -1) -> bytes:
        n = self._size - self._pos if n < 0 else n
        data = os.pread(self.fd, max(0, n), self._pos)
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        n = os.preadv(self.fd, [buffer], self._pos)
        self._pos += n
        return n

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 0:
            self._pos = pos
        elif whence == 1:
            self._pos += pos
        else:
            self._pos = (0 if self._hide_eof else self._size) + pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        count = len(view)
        pos, end = self._pos, self._pos + count
        self.writes += 1
        if pos == 0 and _is_v0(view[:48]):
            view = self._superblock(view)
        elif self._disk_end is not None and end > self._disk_end:
            self._raise_end(end)
        self._pwrite(view, pos)
        self._pos = end
        self._size = max(self._size, end)
        return count

    def truncate(self, size: int | None = None) -> int:
        """HDF5 sets the file's length to its end address at each flush. Grow, never shrink:
        the on-disk end address may be ahead of HDF5's until `finish`."""
        size = self._pos if size is None else size
        self._grow_to(size)
        return size

    def flush(self) -> None:
        """Writes go straight to the kernel; a kill cannot lose them."""

    # ----------------------------------------------------------------- the guard
    def _superblock(self, view: memoryview) -> memoryview:
        self._base = int.from_bytes(view[_BASE_AT:_BASE_AT + 8], "little")
        self.hdf5_end = self._base + int.from_bytes(view[_EOA_AT:_EOA_AT + 8], "little")
        end = max(self.hdf5_end, self._disk_end or 0)
        self._grow_to(end)  # never an end address past the end of the file
        if end != self.hdf5_end:
            patched = bytearray(view)
            patched[_EOA_AT:_EOA_AT + 8] = (end - self._base).to_bytes(8, "little")
            view = memoryview(patched)
        self._disk_end = end
        return view

    def cover(self, fid: h5py.h5f.FileID, ahead: int = 0) -> None:
        """Raise the on-disk end address to HDF5's own end address plus `ahead` bytes.

        Called before HDF5 changes metadata (a flush, a growth event): a parent node written
        before the node it points to would otherwise point past the end address."""
        if self._disk_end is None:
            return
        self._hide_eof = True  # get_filesize is max(end address, end of file): hide the file
        try:
            eoa = fid.get_filesize()
        finally:
            self._hide_eof = False
        if eoa + ahead > self._disk_end:
            self._raise_end(eoa + ahead)

    def _raise_end(self, needed: int) -> None:
        end = needed + max(_HEADROOM, needed // 16)
        end += -end % 4096
        self._grow_to(end)
        self._pwrite(memoryview((end - self._base).to_bytes(8, "little")), _EOA_AT)
        self._disk_end = end

    def _grow_to(self, size: int) -> None:
        if size > self._size:
            self._kept(os.ftruncate, self.fd, size)
            self._size = size

    def _pwrite(self, view: memoryview, offset: int) -> None:
        while view:
            n = self._kept(os.pwrite, self.fd, view, offset)
            view, offset = view[n:], offset + n

    def _kept(self, call, *args):
        try:
            return call(*args)
        except OSError as exc:
            self.failure = self.failure or exc
            raise

    def finish(self) -> None:
        """After HDF5 closed the file: write its own end address back and cut the file there."""
        if self._disk_end is None or self.hdf5_end is None:
            return
        if self._disk_end != self.hdf5_end:
            self._pwrite(memoryview((self.hdf5_end - self._base).to_bytes(8, "little")), _EOA_AT)
            self._disk_end = self.hdf5_end
        if self._size > self.hdf5_end:
            os.ftruncate(self.fd, self.hdf5_end)
            self._size = self.hdf5_end


# Large allocations (chunks of rows) start on a page boundary, so that rows can be written
# with direct I/O (_direct.py); small ones (metadata, a small variable's chunk) are packed.
ALIGN_THRESHOLD = 64 << 10
ALIGN_INTERVAL = 4096


class GuardedH5File(h5py.File):
    """An h5py.File over a GuardedFile whose flush first covers HDF5's end address."""

    def __init__(self, guard: GuardedFile, mode: str) -> None:
        super().__init__(guard, mode, libver="earliest", alignment_threshold=ALIGN_THRESHOLD,
                         alignment_interval=ALIGN_INTERVAL)
        self.guard = guard

    def reserve(self, nbytes: int) -> None:
        """Before a change that allocates up to `nbytes` (a growth event)."""
        self.guard.cover(self.id, nbytes)

    def flush(self) -> None:
        self.guard.cover(self.id)
        super().flush()


def _is_v0(head) -> bool:
    """A version-0 superblock with 8-byte addresses at offset 0 (what libver="earliest" makes)."""
    return len(head) >= 48 and bytes(head[:8]) == SIGNATURE and head[8] == 0 and head[13] == 8
