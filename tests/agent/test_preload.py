"""Unmodified illumos programs through the LD_PRELOAD shim (rtsock_emul/c/shim) and
the illumos headers (rtsock_emul/c/include), against a real sim agent: C built with
gcc, and Python's own socket module (docs/preload.md)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rtsock_emul.c as cside

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SEMANTICS = r"""
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s (errno %d)\n", __LINE__, #c, errno); \
	return 1; } } while (0)

struct req { struct rt_msghdr h; struct sockaddr_in dst, gw, mask; };

static void
route(struct req *r, int type, int seq)
{
	memset(r, 0, sizeof (*r));
	r->h.rtm_msglen = sizeof (*r); r->h.rtm_version = RTM_VERSION; r->h.rtm_type = type;
	r->h.rtm_flags = RTF_UP | RTF_GATEWAY | RTF_STATIC; r->h.rtm_seq = seq;
	r->h.rtm_addrs = RTA_DST | RTA_GATEWAY | RTA_NETMASK;
	r->dst.sin_family = r->gw.sin_family = r->mask.sin_family = AF_INET;
	r->dst.sin_addr.s_addr = htonl(0xc6336500);	/* 198.51.101.0 */
	r->gw.sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1 */
	r->mask.sin_addr.s_addr = htonl(0xffffff00);
}

int
main(void)
{
	struct req r;
	union { struct rt_msghdr h; char buf[2048]; } m;
	struct iovec iov[2];
	struct msghdr mh;
	struct pollfd pfd;
	struct epoll_event ev;
	fd_set rd;
	struct timeval tv = { 0, 0 };
	int s, t, d, ep, v, i, nl;
	socklen_t len = sizeof (v);
	ssize_t n;
	volatile size_t big = sizeof (m);	/* not a constant: fortified calls go to __*_chk */

	CHECK(PF_ROUTE == 24 && sizeof (struct rt_msghdr) == 76);
	CHECK((s = socket(PF_ROUTE, SOCK_RAW, 0)) >= 0);
	/* a real netlink socket in the same process is untouched */
	CHECK((nl = socket(PF_NETLINK, SOCK_RAW, 0)) >= 0);
	len = sizeof (v);
	CHECK(getsockopt(nl, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 && v == PF_NETLINK);
	CHECK(close(nl) == 0);

	/* options at illumos' and at Linux's level and names (R31) */
	len = sizeof (v);
	CHECK(getsockopt(s, SOL_SOCKET, SO_USELOOPBACK, &v, &len) == 0 && v == SO_USELOOPBACK);
	CHECK(getsockopt(s, 0xffff, 0x40, &v, &len) == 0 && v == 0x40);
	CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_RAW);
	CHECK(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 && v == PF_ROUTE);
	v = 8192;
	CHECK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof (v)) == 0);
	CHECK(getsockopt(s, 0xffff, 0x1002, &v, &len) == 0 && v == 8192);
	v = AF_INET6;	/* Linux's number, meant as illumos' 26 (R35) */
	CHECK(setsockopt(s, SOL_SOCKET, SO_PROTOTYPE, &v, sizeof (v)) == 0);
	CHECK(getsockopt(s, SOL_SOCKET, SO_PROTOTYPE, &v, &len) == 0 && v == AF_INET6);
	v = AF_UNIX;
	CHECK(setsockopt(s, SOL_SOCKET, SO_PROTOTYPE, &v, sizeof (v)) == -1 && errno == EPROTONOSUPPORT);
	v = 0;
	CHECK(setsockopt(s, SOL_SOCKET, SO_PROTOTYPE, &v, sizeof (v)) == -1 && errno == EPROTONOSUPPORT);
	CHECK(close(s) == 0);

	/* M13/R27: write's errno is the request's; R42: one message per read */
	CHECK((s = socket(PF_ROUTE, SOCK_RAW | SOCK_CLOEXEC, AF_INET)) >= 0);
	route(&r, RTM_ADD, 11);
	CHECK(write(s, &r, sizeof (r)) == (ssize_t)sizeof (r));
	CHECK(write(s, &r, sizeof (r)) == -1 && errno == EEXIST);
	route(&r, RTM_DELETE, 12);
	CHECK(send(s, &r, sizeof (r), 0) == (ssize_t)sizeof (r));
	iov[0].iov_base = &r; iov[0].iov_len = 40;
	iov[1].iov_base = (char *)&r + 40; iov[1].iov_len = sizeof (r) - 40;
	memset(&mh, 0, sizeof (mh));
	mh.msg_iov = iov; mh.msg_iovlen = 2;
	CHECK(sendmsg(s, &mh, 0) == -1 && errno == ESRCH);
	CHECK(sendto(s, &r, sizeof (r), 0, NULL, 0) == -1 && errno == ESRCH);
	/* poll, select and epoll see the four echoes waiting */
	pfd.fd = s; pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN));
	FD_ZERO(&rd); FD_SET(s, &rd);
	CHECK(select(s + 1, &rd, NULL, NULL, &tv) == 1);
	CHECK((ep = epoll_create1(0)) >= 0);
	ev.events = EPOLLIN; ev.data.fd = s;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0 && epoll_wait(ep, &ev, 1, 5000) == 1);
	CHECK((n = read(s, &m, sizeof (m))) == (ssize_t)sizeof (r) && m.h.rtm_seq == 11 &&
	    m.h.rtm_errno == 0 && (m.h.rtm_flags & RTF_DONE) && m.h.rtm_pid == getpid());
	CHECK((n = recv(s, &m, sizeof (m), 0)) == (ssize_t)sizeof (r) && m.h.rtm_seq == 11 &&
	    m.h.rtm_errno == EEXIST);
	len = sizeof (v);
	CHECK((n = recvfrom(s, &m, sizeof (m), 0, (struct sockaddr *)&r.dst, &len)) ==
	    (ssize_t)sizeof (r) && m.h.rtm_seq == 12 && len == 0);
	/* a short buffer truncates the message, as a datagram socket does */
	iov[0].iov_base = &m; iov[0].iov_len = 20;
	memset(&mh, 0, sizeof (mh));
	mh.msg_iov = iov; mh.msg_iovlen = 1;
	CHECK(recvmsg(s, &mh, 0) == 20 && (mh.msg_flags & MSG_TRUNC) && m.h.rtm_seq == 12);
	CHECK(recv(s, &m, sizeof (m), MSG_DONTWAIT) == (ssize_t)sizeof (r) && m.h.rtm_seq == 12);
	/* O_NONBLOCK, dup and close */
	CHECK(fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK) == 0);
	CHECK(read(s, &m, sizeof (m)) == -1 && errno == EAGAIN);
	CHECK((d = dup(s)) >= 0 && close(s) == 0);
	route(&r, RTM_DELETE, 13);
	CHECK(write(d, &r, sizeof (r)) == -1 && errno == ESRCH);
	CHECK((t = fcntl(d, F_DUPFD_CLOEXEC, 50)) >= 50 && dup2(t, s) == s && close(t) == 0);
	CHECK(read(s, &m, sizeof (m)) > 0 && m.h.rtm_seq == 13);
	CHECK(close(d) == 0);
	len = sizeof (v);
	CHECK(getsockopt(s, SOL_SOCKET, SO_USELOOPBACK, &v, &len) == 0);
	/* M15: SHUT_WR makes requests fail with EPIPE */
	CHECK(shutdown(s, SHUT_WR) == 0);
	CHECK(write(s, &r, sizeof (r)) == -1 && errno == EPIPE);
	CHECK(close(s) == 0 && close(ep) == 0);

	/* a reader that stops reading gets ENOBUFS once, then reads on */
	CHECK((s = socket(PF_ROUTE, SOCK_RAW, 0)) >= 0);
	CHECK((t = socket(PF_ROUTE, SOCK_RAW, 0)) >= 0);
	v = 0;
	CHECK(setsockopt(t, SOL_SOCKET, SO_USELOOPBACK, &v, sizeof (v)) == 0);
	v = 4096;
	CHECK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof (v)) == 0);
	for (i = 0; i < 400; i++) {
		route(&r, i % 2 ? RTM_DELETE : RTM_ADD, 100 + i);
		CHECK(write(t, &r, sizeof (r)) == (ssize_t)sizeof (r));
	}
	CHECK(read(s, &m, big) == -1 && errno == ENOBUFS);
	CHECK(recv(s, &m, big, 0) == (ssize_t)sizeof (r) && m.h.rtm_seq == 100);
	CHECK(close(s) == 0 && close(t) == 0);

	/* interface names come from the emulated kernel */
	{
		char name[IF_NAMESIZE];
		unsigned int idx = if_nametoindex("net1");

		CHECK(idx != 0 && if_indextoname(idx, name) != NULL && strcmp(name, "net1") == 0);
		CHECK(if_nametoindex("nosuch0") == 0 && if_indextoname(4000, name) == NULL);
	}
	printf("OK\n");
	return 0;
}
"""

PYTHON = r"""
import errno, os, socket, struct
s = socket.socket(24, socket.SOCK_RAW, 0)
assert (s.family, s.type) == (24, socket.SOCK_RAW), s
assert s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_RAW
assert s.getsockopt(0xffff, 0x40) == 0x40                        # R31
s.setsockopt(0xfffe, 1, 0x10)                                     # R36
assert s.getsockopt(0xfffe, 1) == 0x10
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
assert s.getsockopt(0xffff, 0x1002) == 16384

def sin(a):
    return struct.pack("=H2s4s8x", socket.AF_INET, b"\0\0", socket.inet_aton(a))

def req(rtm_type, seq):
    body = sin("198.51.102.0") + sin("192.0.2.1") + sin("255.255.255.0")
    return struct.pack("=HBBH2xiiiiiiI40x", 76 + len(body), 3, rtm_type, 0, 0x803, 0x7,
                       0, seq, 0, 0, 0) + body

assert s.send(req(1, 21)) == 124                                  # RTM_ADD
try:
    s.send(req(1, 22))
except OSError as exc:
    assert exc.errno == errno.EEXIST, exc                         # M13
else:
    raise AssertionError("second RTM_ADD succeeded")
echo = s.recv(2048)
pid, seq = struct.unpack_from("=ii", echo, 16)                  # rtm_pid, rtm_seq
assert len(echo) == 124 and seq == 21 and pid == os.getpid(), (len(echo), seq, pid)
s.settimeout(5)
assert struct.unpack_from("=i", s.recv(2048), 20)[0] == 22
s.setblocking(False)
try:
    s.recv(2048)
except BlockingIOError:
    pass
else:
    raise AssertionError("a non-blocking recv with nothing waiting returned")
assert socket.if_indextoname(socket.if_nametoindex("net0")) == "net0"
s.close()
print("OK")
"""


@pytest.fixture(scope="module")
def shim():
    return cside.build()


def cc(tmp_path, name, source):
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    exe = tmp_path / name
    subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-O2", "-D_FORTIFY_SOURCE=2",
                    "-I", str(cside.INCLUDE_DIR), "-o", str(exe), str(src)],
                   check=True, capture_output=True, text=True)
    return exe


def run(agent, shim, argv, timeout=20):
    env = dict(os.environ, RTSOCK_AGENT=agent.path, LD_PRELOAD=str(shim))
    return subprocess.run([str(a) for a in argv], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_R27_R31_R35_R42_M13_M15_a_c_program_sees_routing_socket_semantics(agent, shim, tmp_path):
    """Built with _FORTIFY_SOURCE (read becomes __read_chk): options at both levels,
    errno from the ack, one message per read, readiness, dup/close, ENOBUFS, names."""
    res = run(agent, shim, [cc(tmp_path, "semantics", SEMANTICS)])
    assert res.returncode == 0 and res.stdout == "OK\n", res.stdout + res.stderr


def test_R20_R23_R24_M13_route_tool_tells_eexist_and_esrch_apart(agent, shim, tmp_path):
    exe = cc(tmp_path, "route_tool", (EXAMPLES / "route_tool.c").read_text())
    steps = [
        (["add", "198.51.103.0/24", "192.0.2.1"], 0, "add 198.51.103.0/24: done\n"),
        (["add", "198.51.103.0/24", "192.0.2.1"], 3, "add 198.51.103.0/24: EEXIST (route already exists)\n"),
        (["get", "198.51.103.9"], 0, "gateway 192.0.2.1 interface net0\n"),
        (["add", "198.51.104.0/24", "203.0.113.1", "net1"], 0, "add 198.51.104.0/24: done\n"),
        (["get", "198.51.104.9"], 0, "gateway 203.0.113.1 interface net1\n"),
        (["delete", "198.51.103.0/24", "192.0.2.1"], 0, "delete 198.51.103.0/24: done\n"),
        (["delete", "198.51.103.0/24", "192.0.2.1"], 4, "delete 198.51.103.0/24: ESRCH (no such route)\n"),
        (["get", "10.99.0.1"], 4, "get 10.99.0.1: ESRCH (no such route)\n"),
    ]
    for args, rc, out in steps:
        res = run(agent, shim, [exe, *args])
        assert (res.returncode, res.stdout) == (rc, out), (args, res.stdout, res.stderr)
    res = run(agent, shim, [exe, "add", "198.51.105.0/24", "192.0.2.1", "nosuch0"])
    assert res.returncode == 1 and "nosuch0: no such interface" in res.stderr


def test_R27_R31_R36_python_socket_module_is_a_routing_socket(agent, shim):
    res = run(agent, shim, [sys.executable, "-c", PYTHON])
    assert res.returncode == 0 and res.stdout == "OK\n", res.stdout + res.stderr


def test_watchers_print_ifinfo_of_a_carrier_change(agent, shim, tmp_path):
    """The C and Python examples (sim mode): an RTM_IFINFO per ill when net1 loses carrier."""
    exe = cc(tmp_path, "ipmp_watch", (EXAMPLES / "ipmp_watch.c").read_text())
    env = dict(os.environ, RTSOCK_AGENT=agent.path, LD_PRELOAD=str(shim), PYTHONUNBUFFERED="1")
    watchers = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for argv in ([str(exe), "-n", "1"], [sys.executable, str(EXAMPLES / "ipmp_watch.py"), "1"])]
    try:
        for w in watchers:
            assert w.stdout.readline() == "watching\n"
        assert agent.admin("sim", "link", "net1", "down")[0] == 0
        outs = [w.communicate(timeout=20) for w in watchers]
    finally:
        for w in watchers:
            if w.poll() is None:
                w.kill()
                w.communicate()
        agent.admin("sim", "link", "net1", "up")
    index = agent.admin("ifindex", "net1")[1].strip()     # lo0 is 1; the rest in plumb order
    for out, err in outs:
        assert out == f"RTM_IFINFO net1 index {index} flags UP,BROADCAST,MULTICAST,IPV4\n", out + err


def test_without_an_agent_socket_fails_with_a_clear_message(shim, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RTSOCK_AGENT"}
    res = subprocess.run([sys.executable, "-c", "import socket; socket.socket(24, socket.SOCK_RAW, 0)"],
                         env=dict(env, LD_PRELOAD=str(shim)), capture_output=True, text=True, timeout=20)
    assert res.returncode == 1 and "RTSOCK_AGENT is not set" in res.stderr, res.stderr


def test_rtsock_run_loads_the_shim(agent, shim):
    """`rtsock run PROGRAM`: the program's PF_ROUTE socket reaches this agent."""
    rtsock = Path(sys.executable).parent / "rtsock"
    code = "import socket; s = socket.socket(24, socket.SOCK_RAW, 0); print(s.getsockopt(0xffff, 0x40))"
    env = dict(os.environ, RTSOCK_AGENT=agent.path, RTSOCK_PRELOAD=str(shim))
    env.pop("LD_PRELOAD", None)
    res = subprocess.run([str(rtsock), "run", sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, timeout=20)
    assert (res.returncode, res.stdout) == (0, "64\n"), res.stderr
    res = subprocess.run([str(rtsock), "run", "/nonexistent/prog"], env=env, capture_output=True,
                         text=True, timeout=20)
    assert res.returncode == 127 and "cannot run /nonexistent/prog" in res.stderr
    res = subprocess.run([str(rtsock), "run", sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(env, RTSOCK_PRELOAD="/nonexistent/shim.so"), timeout=20)
    assert res.returncode == 1 and "./ipmp-lab setup" in res.stderr
