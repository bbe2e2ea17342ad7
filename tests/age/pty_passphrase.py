#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and answers its passphrase prompts.

`age -p` and `age -d` of a passphrase file read the passphrase from the
terminal only (never from stdin or the environment, in Debian's age 1.1.1).
usage: pty_passphrase.py PASSFILE CMD ARGS...  (the passphrase is the first
line of PASSFILE, so it is never on a command line); exits with CMD's status.
Standard library only.
"""
import os
import pty
import select
import sys

TIMEOUT = 120


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    with open(sys.argv[1], "rb") as f:
        secret = f.read().split(b"\n")[0]
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(sys.argv[2], sys.argv[2:])
        finally:
            os._exit(127)
    seen = b""
    answered = 0
    while True:
        ready, _, _ = select.select([fd], [], [], TIMEOUT)
        if not ready:
            os.kill(pid, 9)
            sys.stderr.write("pty_passphrase: no prompt for %d s\n" % TIMEOUT)
            break
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        seen += data
        # one answer per prompt ("Enter passphrase...: ", "Confirm passphrase: ")
        prompts = seen.lower().count(b"passphrase")
        if prompts > answered and seen.rstrip().endswith(b":"):
            os.write(fd, secret + b"\r")
            answered = prompts
    _, status = os.waitpid(pid, 0)
    if answered == 0:
        sys.stderr.write("pty_passphrase: the command never asked for a passphrase\n")
        return 1
    return os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else (status >> 8)


if __name__ == "__main__":
    sys.exit(main())
