"""Escaping the worker: new processes and threads that would outlive the run.

Every process these handlers try to start sleeps for a minute with a marker on its command line, so
that the test can look for it in /proc afterwards.
"""

import os
import subprocess
import sys
import threading
import time

from probe import Probe, Report

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


class Forks(Probe):
    def attack(self):
        pid = os.fork()
        if pid == 0:
            os.execv(sys.executable, SLEEPER + ["qc-attack-fork"])


class Popens(Probe):
    def attack(self):
        subprocess.Popen(SLEEPER + ["qc-attack-popen"], start_new_session=True)


class StartsThread(Probe):
    def attack(self):
        threading.Thread(target=time.sleep, args=(60,), name="qc-attack-thread", daemon=False).start()


class NewSessionThenDoubleFork(Probe):
    """setsid()/setpgid() to leave the worker's process group, then the classic daemon double fork."""

    def attack(self):
        seen = []
        for name, call in (("setsid", os.setsid), ("setpgid", lambda: os.setpgid(0, 0))):
            try:
                call()
                seen.append(f"{name}=ok")
            except OSError as e:
                seen.append(f"{name}={type(e).__name__}")
        try:
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv(sys.executable, SLEEPER + ["qc-attack-daemon"])
                os._exit(0)
            seen.append("fork=ok")
        except OSError as e:
            seen.append(f"fork={type(e).__name__}")
        raise Report(" ".join(seen))
