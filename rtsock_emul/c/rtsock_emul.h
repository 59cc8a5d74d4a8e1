/*
 * rtsock_emul.h -- emulated illumos PF_ROUTE sockets from C (header only).
 *
 * The agent named by $RTSOCK_AGENT serves routing sockets over AF_UNIX
 * SOCK_SEQPACKET (docs/internals.md "Transport"). This header does the hello
 * (a control socketpair passed by SCM_RIGHTS) and turns the agent's per-request
 * acknowledgement into the errno of write(2), as on illumos (route(4P) M13):
 *
 *     int s = rts_socket(0);                  // socket(PF_ROUTE, SOCK_RAW, 0)
 *     if (rts_write(s, &req, req.rtm_msglen) == -1) perror("RTM_ADD");
 *     n = rts_read(s, buf, sizeof (buf));     // one whole message per read
 *     rts_close(s);
 *
 * Option levels and names are illumos' (SOL_SOCKET 0xffff, SO_USELOOPBACK 0x40,
 * SO_PROTOTYPE 0x1009, SO_RCVBUF 0x1002, SOL_ROUTE 0xfffe, RT_AWARE 1); errno
 * values are the local (Linux) ones. Messages are the illumos bytes: use the
 * illumos headers of rtsock_emul/c/include (<net/route.h>: rt_msghdr is 76 bytes, R3, R4).
 * Not thread-safe per socket (like the Python client).
 *
 * Unmodified illumos programs need none of this: they use those headers and
 * the preload shim (docs/preload.md). This header is for code that cannot be
 * preloaded (static or set-uid binaries) or wants the emulation named.
 */
#ifndef RTSOCK_EMUL_H
#define RTSOCK_EMUL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rts_record.h"

#define RTS_SOL_SOCKET      0xffff
#define RTS_SOL_ROUTE       0xfffe
#define RTS_SO_USELOOPBACK  0x0040
#define RTS_SO_RCVBUF       0x1002
#define RTS_SO_PROTOTYPE    0x1009
#define RTS_RT_AWARE        0x0001
#define RTS_RTAW_UNDER_IPMP 0x0010
#define RTS_MAX_FD          4096
#define RTS_CTRL_MAX        65536

/* Per data fd: its control fd (+1, so 0 means "not a routing socket") and
 * pending overflow notices. */
static int rts_ctrl_fd_[RTS_MAX_FD];
static int rts_overflow_[RTS_MAX_FD];

static inline int rts_ctrl_(int fd)
{
	if (fd < 0 || fd >= RTS_MAX_FD || rts_ctrl_fd_[fd] == 0) {
		errno = EBADF;
		return (-1);
	}
	return (rts_ctrl_fd_[fd] - 1);
}

/* Read control records until one of kind `op`; count overflow notices. */
static inline int rts_wait_(int fd, const char *op, char *rec, size_t size)
{
	int ctrl = rts_ctrl_(fd);
	ssize_t n;

	if (ctrl < 0)
		return (-1);
	for (;;) {
		n = recv(ctrl, rec, size - 1, 0);
		if (n <= 0) {
			errno = (n == 0) ? ECONNRESET : errno;
			return (-1);
		}
		rec[n] = '\0';
		if (rts_is_op_(rec, "overflow")) {
			rts_overflow_[fd]++;
			continue;
		}
		if (rts_is_op_(rec, op))
			return (0);
		errno = EPROTO;
		return (-1);
	}
}

/* 0 or -1 with errno from the record's "errno". */
static inline int rts_status_(const char *rec)
{
	long e = rts_json_int_(rec, "errno", EPROTO);

	if (e != 0) {
		errno = (int)e;
		return (-1);
	}
	return (0);
}

static inline int rts_socket(int protocol)
{
	const char *path = getenv("RTSOCK_AGENT");
	struct sockaddr_un sun;
	int sv[2], data, saved;
	char hello[64], rec[256];
	struct msghdr mh;
	struct iovec iov;
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof (int))]; } cm;

	if (path == NULL || strlen(path) >= sizeof (sun.sun_path)) {
		errno = ENOENT;
		return (-1);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		return (-1);
	if ((data = socket(AF_UNIX, SOCK_SEQPACKET, 0)) == -1)
		goto fail_pair;
	if (data >= RTS_MAX_FD) {
		errno = EMFILE;
		goto fail_data;
	}
	(void) memset(&sun, 0, sizeof (sun));
	sun.sun_family = AF_UNIX;
	(void) strcpy(sun.sun_path, path);
	if (connect(data, (struct sockaddr *)&sun, sizeof (sun)) == -1)
		goto fail_data;

	(void) snprintf(hello, sizeof (hello), "RTSOCK1 {\"protocol\": %d}", protocol);
	iov.iov_base = hello;
	iov.iov_len = strlen(hello);
	(void) memset(&mh, 0, sizeof (mh));
	(void) memset(&cm, 0, sizeof (cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof (cm.buf);
	CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof (int));
	(void) memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &sv[1], sizeof (int));
	if (sendmsg(data, &mh, 0) == -1)
		goto fail_data;
	(void) close(sv[1]);
	sv[1] = -1;
	rts_ctrl_fd_[data] = sv[0] + 1;
	rts_overflow_[data] = 0;
	if (rts_wait_(data, "hello", rec, sizeof (rec)) == -1 || rts_status_(rec) == -1) {
		rts_ctrl_fd_[data] = 0;
		goto fail_data;
	}
	return (data);

fail_data:
	saved = errno;
	(void) close(data);
	errno = saved;
fail_pair:
	saved = errno;
	(void) close(sv[0]);
	if (sv[1] != -1)
		(void) close(sv[1]);
	errno = saved;
	return (-1);
}

/* One request; returns len, or -1 with errno = the request's error (M13). */
static inline ssize_t rts_write(int fd, const void *buf, size_t len)
{
	char rec[256];

	if (rts_ctrl_(fd) < 0)
		return (-1);
	if (send(fd, buf, len, 0) == -1)
		return (-1);
	if (rts_wait_(fd, "ack", rec, sizeof (rec)) == -1 || rts_status_(rec) == -1)
		return (-1);
	return ((ssize_t)len);
}

/* One whole routing message; -1/ENOBUFS once after messages were dropped. */
static inline ssize_t rts_read(int fd, void *buf, size_t len)
{
	int ctrl = rts_ctrl_(fd);
	char rec[256];
	ssize_t n;

	if (ctrl < 0)
		return (-1);
	while ((n = recv(ctrl, rec, sizeof (rec) - 1, MSG_DONTWAIT)) > 0) {
		rec[n] = '\0';
		if (strstr(rec, "\"op\": \"overflow\"") != NULL)
			rts_overflow_[fd]++;
	}
	if (rts_overflow_[fd] > 0) {
		rts_overflow_[fd] = 0;
		errno = ENOBUFS;
		return (-1);
	}
	return (recv(fd, buf, len, 0));
}

static inline int rts_call_(int fd, const char *req, long *value)
{
	int ctrl = rts_ctrl_(fd);
	char rec[256];

	if (ctrl < 0)
		return (-1);
	if (send(ctrl, req, strlen(req), 0) == -1)
		return (-1);
	if (rts_wait_(fd, "reply", rec, sizeof (rec)) == -1 || rts_status_(rec) == -1)
		return (-1);
	if (value != NULL)
		*value = rts_json_int_(rec, "value", 0);
	return (0);
}

static inline int rts_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	char req[160];
	int v;

	if (val == NULL || len < sizeof (int)) {
		errno = EINVAL;
		return (-1);
	}
	(void) memcpy(&v, val, sizeof (int));
	(void) snprintf(req, sizeof (req),
	    "{\"op\": \"setsockopt\", \"level\": %d, \"name\": %d, \"value\": %d}", level, name, v);
	return (rts_call_(fd, req, NULL));
}

static inline int rts_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	char req[160];
	long value;
	int v;

	if (val == NULL || len == NULL || *len < sizeof (int)) {
		errno = EINVAL;
		return (-1);
	}
	(void) snprintf(req, sizeof (req),
	    "{\"op\": \"getsockopt\", \"level\": %d, \"name\": %d}", level, name);
	if (rts_call_(fd, req, &value) == -1)
		return (-1);
	v = (int)value;
	(void) memcpy(val, &v, sizeof (int));
	*len = sizeof (int);
	return (0);
}

static inline int rts_shutdown(int fd, int how)
{
	char req[64];

	(void) snprintf(req, sizeof (req), "{\"op\": \"shutdown\", \"how\": %d}", how);
	return (rts_call_(fd, req, NULL));
}

static inline int rts_close(int fd)
{
	int ctrl = rts_ctrl_(fd);

	if (ctrl < 0)
		return (-1);
	rts_ctrl_fd_[fd] = 0;
	(void) close(ctrl);
	return (close(fd));
}

#endif /* RTSOCK_EMUL_H */
