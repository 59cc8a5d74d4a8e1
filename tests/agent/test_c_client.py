"""The C header (rtsock_emul/c/rtsock_emul.h): compile a program with gcc that adds a
route, reads its echo, gets EEXIST through errno (M13), and reads options."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import rtsock_emul

HEADER = Path(rtsock_emul.__file__).parent / "c" / "rtsock_emul.h"
PROGRAM = r"""
#include <stdint.h>
#include "rtsock_emul.h"

/* illumos LP64 layouts (R3, R4), not the host's. */
struct rt_metrics { uint32_t v[10]; };
struct rt_msghdr {
	uint16_t rtm_msglen; uint8_t rtm_version; uint8_t rtm_type;
	uint16_t rtm_index; uint16_t pad; int32_t rtm_flags; int32_t rtm_addrs;
	int32_t rtm_pid; int32_t rtm_seq; int32_t rtm_errno; int32_t rtm_use;
	uint32_t rtm_inits; struct rt_metrics rtm_rmx;
};
struct sin { uint16_t family; uint16_t port; uint8_t addr[4]; uint8_t zero[8]; };
struct req { struct rt_msghdr h; struct sin dst, gw, mask; };

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "FAIL %s (errno %d)\n", #c, errno); return 1; } } while (0)

int main(void)
{
	struct req r;
	char buf[2048];
	struct rt_msghdr *echo = (struct rt_msghdr *)buf;
	int s, v = 0;
	socklen_t len = sizeof (v);
	ssize_t n;

	CHECK((s = rts_socket(0)) >= 0);
	CHECK(rts_getsockopt(s, RTS_SOL_SOCKET, RTS_SO_USELOOPBACK, &v, &len) == 0 && v == 0x40);
	memset(&r, 0, sizeof (r));
	r.h.rtm_msglen = sizeof (r); r.h.rtm_version = 3; r.h.rtm_type = 1;   /* RTM_ADD */
	r.h.rtm_flags = 0x1 | 0x2 | 0x800; r.h.rtm_addrs = 0x1 | 0x2 | 0x4; r.h.rtm_seq = 4711;
	r.dst.family = r.gw.family = r.mask.family = 2;
	memcpy(r.dst.addr, "\xc6\x33\x64\x00", 4);    /* 198.51.100.0 */
	memcpy(r.gw.addr, "\xc0\x00\x02\x01", 4);     /* 192.0.2.1 */
	memcpy(r.mask.addr, "\xff\xff\xff\x00", 4);
	CHECK(sizeof (struct rt_msghdr) == 76 && sizeof (r) == 124);
	CHECK(rts_write(s, &r, sizeof (r)) == (ssize_t)sizeof (r));
	for (;;) {
		CHECK((n = rts_read(s, buf, sizeof (buf))) > 0);
		if (n >= 76 && echo->rtm_seq == 4711)
			break;
	}
	CHECK(n == (ssize_t)sizeof (r) && echo->rtm_type == 1 && echo->rtm_errno == 0);
	CHECK((echo->rtm_flags & 0x40) != 0 && echo->rtm_pid == getpid());
	CHECK(rts_write(s, &r, sizeof (r)) == -1 && errno == EEXIST);
	v = 0;
	CHECK(rts_setsockopt(s, RTS_SOL_SOCKET, RTS_SO_PROTOTYPE, &v, sizeof (v)) == -1 && errno == EPROTONOSUPPORT);
	CHECK(rts_shutdown(s, 1) == 0);
	CHECK(rts_write(s, &r, sizeof (r)) == -1 && errno == EPIPE);
	CHECK(rts_close(s) == 0);
	printf("OK\n");
	return 0;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_c_program_adds_a_route_and_reads_the_echo(agent, tmp_path):
    src = tmp_path / "add.c"
    src.write_text(PROGRAM)
    exe = tmp_path / "add"
    subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-I", str(HEADER.parent), "-o", str(exe), str(src)],
                   check=True, capture_output=True, text=True)
    run = subprocess.run([str(exe)], env=dict(os.environ, RTSOCK_AGENT=agent.path),
                         capture_output=True, text=True, timeout=20)
    assert run.returncode == 0 and run.stdout == "OK\n", run.stderr
