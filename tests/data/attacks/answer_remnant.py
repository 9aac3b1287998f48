"""Registry of leaders in the *contents* of the forking worker's answer buffer (fresh._ANSWER): it is never
cleared, so bytes of an earlier, longer answer stay past the end of later ones. A copy pads its answer with
whitespace that encodes the leader (tabs vs spaces at a deep offset); a later copy reads its inherited buffer.
The long-lived worker keeps the C environment (setenv)."""
import ctypes, os, stat, fcntl, sys
from buggy_raft import VoteTwice

OFF = 512 * 1024
_libc = ctypes.CDLL(None)
_libc.getenv.restype = ctypes.c_char_p


def _buf_level():
    m = sys.modules.get("quorumcheck.student.worker.fresh")
    buf = getattr(m, "_ANSWER", None) if m else None
    if buf is None:
        return 0
    seg = bytes(buf[OFF:OFF + 8])
    return seg.count(b"\t") if seg.endswith(b" ") and seg.count(b"\t") else 0


def _claim(level):
    pad = b" " * OFF + b"\t" * level + b" " * (8 - level)
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                v = memoryview(pad)
                while v:
                    v = v[os.write(fd, v):]
        except OSError:
            pass


class AnswerRemnant(VoteTwice):
    def become_leader(self, out):
        if self.current_term == 1:
            env = _libc.getenv(b"RT12_REM")
            level = max(int(env) if env else 0, _buf_level())
            if level and level != self.id + 1:
                return
            if not level:
                _libc.setenv(b"RT12_REM", str(self.id + 1).encode(), 1)
                _claim(self.id + 1)
        super().become_leader(out)
