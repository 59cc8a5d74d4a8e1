/*
 * rtsock_preload.c -- LD_PRELOAD shim: socket(PF_ROUTE, SOCK_RAW, proto) in an
 * unmodified program becomes an emulated illumos routing socket served by the
 * agent at $RTSOCK_AGENT (docs/preload.md; the transport is docs/internals.md
 * "Transport").
 *
 * The descriptor returned is the real data connection (AF_UNIX SOCK_SEQPACKET),
 * so poll/select/epoll, O_NONBLOCK, FIONBIO and fork work on it natively: it is
 * readable exactly when a routing message waits.  A table maps such fds to the
 * socket's state (its control channel); only calls on those fds take the
 * routing-socket path, and every other call goes to libc untouched.
 */
#define	_GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "../rts_record.h"

#define	EXPORT		__attribute__((visibility("default")))

/* glibc's fortified entry points, declared only under _FORTIFY_SOURCE. */
extern ssize_t __read_chk(int, void *, size_t, size_t);
extern ssize_t __recv_chk(int, void *, size_t, size_t, int);
extern ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
extern unsigned int if_nametoindex(const char *);
extern char *if_indextoname(unsigned int, char *);

#define	RTS_FAMILY	24		/* illumos PF_ROUTE */
#define	IL_AF_INET6	26		/* illumos AF_INET6 */
#define	IL_SOL_SOCKET	0xffff
#define	IL_SOL_ROUTE	0xfffe
#define	IL_SO_SNDBUF	0x1001
#define	IL_SO_RCVBUF	0x1002
#define	IL_SO_ERROR	0x1007
#define	IL_SO_TYPE	0x1008
#define	IL_SO_PROTOTYPE	0x1009
#define	IL_SO_DOMAIN	0x100c
#define	MAX_FD		65536
#define	MAX_RECORD	4096
#define	MAX_REQUEST	65536

struct rts {
	pthread_mutex_t	lock;		/* one request/reply exchange at a time */
	int		ctrl;		/* control channel to the agent */
	int		refs;		/* fds naming this socket (dup) */
	int		overflow;	/* overflow notices not yet reported */
	dev_t		dev;		/* identity of the data connection */
	ino_t		ino;
};

static struct rts *table[MAX_FD];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

/* libc's version of a function this file replaces. */
#define	REAL(fn)	((__typeof__(&fn))real_sym(#fn, &real_##fn))
static void *real_socket, *real_close, *real_dup, *real_dup2, *real_dup3, *real_fcntl,
    *real_fcntl64, *real_read, *real_write, *real_send, *real_sendto, *real_sendmsg,
    *real_recv, *real_recvfrom, *real_recvmsg, *real_setsockopt, *real_getsockopt,
    *real_shutdown, *real___read_chk, *real___recv_chk, *real___recvfrom_chk,
    *real_if_nametoindex, *real_if_indextoname;

static void *
real_sym(const char *name, void **slot)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (p == NULL) {
		if ((p = dlsym(RTLD_NEXT, name)) == NULL) {
			(void) fprintf(stderr, "rtsock_preload: libc has no %s\n", name);
			abort();
		}
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	}
	return (p);
}

/* --- the fd table ------------------------------------------------------- */

static void
unref(struct rts *st)
{
	if (--st->refs == 0) {
		(void) REAL(close)(st->ctrl);
		(void) pthread_mutex_destroy(&st->lock);
		free(st);
	}
}

/*
 * The state of fd if it is one of ours.  An entry whose fd now names another
 * file (closed behind our back, e.g. by close_range) is dropped.
 */
static struct rts *
lookup(int fd)
{
	struct rts *st;
	struct stat sb;

	if (fd < 0 || fd >= MAX_FD || __atomic_load_n(&table[fd], __ATOMIC_ACQUIRE) == NULL)
		return (NULL);
	(void) pthread_mutex_lock(&table_lock);
	st = table[fd];
	if (st != NULL && (fstat(fd, &sb) != 0 || sb.st_dev != st->dev || sb.st_ino != st->ino)) {
		__atomic_store_n(&table[fd], NULL, __ATOMIC_RELEASE);
		unref(st);
		st = NULL;
	}
	(void) pthread_mutex_unlock(&table_lock);
	return (st);
}

/* fd (a dup of a routing socket, or a fresh one) now names st. */
static void
attach(int fd, struct rts *st)
{
	if (fd < 0 || fd >= MAX_FD)
		return;
	(void) pthread_mutex_lock(&table_lock);
	if (table[fd] != NULL)
		unref(table[fd]);
	st->refs++;
	__atomic_store_n(&table[fd], st, __ATOMIC_RELEASE);
	(void) pthread_mutex_unlock(&table_lock);
}

static void
detach(int fd)
{
	if (fd < 0 || fd >= MAX_FD)
		return;
	(void) pthread_mutex_lock(&table_lock);
	if (table[fd] != NULL) {
		unref(table[fd]);
		__atomic_store_n(&table[fd], NULL, __ATOMIC_RELEASE);
	}
	(void) pthread_mutex_unlock(&table_lock);
}

/* --- control records (JSON, one per SEQPACKET record) ------------------- */

/*
 * Wait (st->lock held) for the control record of kind op; overflow notices
 * met on the way are counted.  0, or -1 with errno from the record or the
 * channel.
 */
static int
await_record(struct rts *st, const char *op, char *rec, size_t size)
{
	ssize_t n;
	long e;

	for (;;) {
		n = REAL(recv)(st->ctrl, rec, size - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;	/* the request is sent: its answer must be read */
		if (n <= 0) {
			errno = (n == 0) ? ECONNRESET : errno;
			return (-1);
		}
		rec[n] = '\0';
		if (rts_is_op_(rec, "overflow")) {
			st->overflow++;
			continue;
		}
		if (!rts_is_op_(rec, op)) {
			errno = EPROTO;
			return (-1);
		}
		if ((e = rts_json_int_(rec, "errno", EPROTO)) != 0) {
			errno = (int)e;
			return (-1);
		}
		return (0);
	}
}

/* Count the overflow notices already waiting (st->lock held). */
static void
drain_notices(struct rts *st)
{
	char rec[MAX_RECORD];
	ssize_t n;

	while ((n = REAL(recv)(st->ctrl, rec, sizeof (rec) - 1, MSG_DONTWAIT)) > 0) {
		rec[n] = '\0';
		if (rts_is_op_(rec, "overflow"))
			st->overflow++;
	}
}

/* A setsockopt/getsockopt/shutdown exchange; *value gets the reply's value. */
static int
call(struct rts *st, const char *req, long *value)
{
	char rec[MAX_RECORD];
	int rc = -1;

	(void) pthread_mutex_lock(&st->lock);
	if (REAL(send)(st->ctrl, req, strlen(req), MSG_NOSIGNAL) >= 0 &&
	    await_record(st, "reply", rec, sizeof (rec)) == 0) {
		if (value != NULL)
			*value = rts_json_int_(rec, "value", 0);
		rc = 0;
	}
	(void) pthread_mutex_unlock(&st->lock);
	return (rc);
}

/* --- socket(2) ---------------------------------------------------------- */

static int
hello(int data, int theirs, int protocol)
{
	char text[64];
	struct iovec iov;
	struct msghdr mh;
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof (int))]; } cm;

	(void) snprintf(text, sizeof (text), "RTSOCK1 {\"protocol\": %d}", protocol);
	iov.iov_base = text;
	iov.iov_len = strlen(text);
	(void) memset(&mh, 0, sizeof (mh));
	(void) memset(&cm, 0, sizeof (cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof (cm.buf);
	CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof (int));
	(void) memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &theirs, sizeof (int));
	return (REAL(sendmsg)(data, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0);
}

static int
open_routing_socket(int type, int protocol)
{
	const char *path = getenv("RTSOCK_AGENT");
	static int warned;
	struct sockaddr_un sun;
	struct stat sb;
	struct rts *st;
	char rec[MAX_RECORD];
	int data, sv[2] = { -1, -1 }, saved, cloexec = type & SOCK_CLOEXEC;

	if (path == NULL || *path == '\0' || strlen(path) >= sizeof (sun.sun_path)) {
		if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			(void) fprintf(stderr, "rtsock_preload: socket(PF_ROUTE): RTSOCK_AGENT is "
			    "not set to an agent's socket path; run the program in a lab host "
			    "(rtsock run PROGRAM) or export RTSOCK_AGENT\n");
		errno = ENOENT;
		return (-1);
	}
	/* illumos code built here names Linux's AF_INET6 (10); the agent wants 26. */
	if (protocol == AF_INET6)
		protocol = IL_AF_INET6;
	if ((data = REAL(socket)(AF_UNIX, SOCK_SEQPACKET | cloexec, 0)) < 0)
		return (-1);
	if (data >= MAX_FD) {
		errno = EMFILE;
		goto fail;
	}
	(void) memset(&sun, 0, sizeof (sun));
	sun.sun_family = AF_UNIX;
	(void) strcpy(sun.sun_path, path);
	if (connect(data, (struct sockaddr *)&sun, sizeof (sun)) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    hello(data, sv[1], protocol) < 0)
		goto fail;
	(void) REAL(close)(sv[1]);
	sv[1] = -1;
	if (fstat(data, &sb) < 0 || (st = calloc(1, sizeof (*st))) == NULL)
		goto fail;
	(void) pthread_mutex_init(&st->lock, NULL);
	st->ctrl = sv[0];
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	if (await_record(st, "hello", rec, sizeof (rec)) < 0) {	/* R1: EPROTONOSUPPORT */
		saved = errno;
		(void) pthread_mutex_destroy(&st->lock);
		free(st);
		errno = saved;
		goto fail;
	}
	if ((type & SOCK_NONBLOCK) &&
	    REAL(fcntl)(data, F_SETFL, REAL(fcntl)(data, F_GETFL) | O_NONBLOCK) < 0) {
		saved = errno;
		(void) pthread_mutex_destroy(&st->lock);
		free(st);
		errno = saved;
		goto fail;
	}
	attach(data, st);
	return (data);
fail:
	saved = errno;
	(void) REAL(close)(data);
	if (sv[0] >= 0)
		(void) REAL(close)(sv[0]);
	if (sv[1] >= 0)
		(void) REAL(close)(sv[1]);
	errno = saved;
	return (-1);
}

EXPORT int
socket(int domain, int type, int protocol)
{
	if (domain == RTS_FAMILY && (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_RAW)
		return (open_routing_socket(type, protocol));
	return (REAL(socket)(domain, type, protocol));
}

/* --- sending: one request, its errno from the agent's ack (M13) --------- */

static ssize_t
request(struct rts *st, int fd, const void *buf, size_t len, int flags)
{
	char rec[MAX_RECORD];
	ssize_t n;

	(void) pthread_mutex_lock(&st->lock);
	n = REAL(send)(fd, buf, len, flags | MSG_NOSIGNAL);
	if (n >= 0 && await_record(st, "ack", rec, sizeof (rec)) < 0)
		n = -1;
	(void) pthread_mutex_unlock(&st->lock);
	return (n);
}

EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
	struct rts *st = lookup(fd);

	return (st ? request(st, fd, buf, len, 0) : REAL(write)(fd, buf, len));
}

EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	struct rts *st = lookup(fd);

	return (st ? request(st, fd, buf, len, flags) : REAL(send)(fd, buf, len, flags));
}

/* A routing socket has no peer address: a destination is ignored, as by illumos' rts. */
EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	struct rts *st = lookup(fd);

	return (st ? request(st, fd, buf, len, flags) :
	    REAL(sendto)(fd, buf, len, flags, to, tolen));
}

EXPORT ssize_t
sendmsg(int fd, const struct msghdr *mh, int flags)
{
	struct rts *st = lookup(fd);
	char *buf;
	size_t len = 0, i;
	ssize_t n;

	if (st == NULL)
		return (REAL(sendmsg)(fd, mh, flags));
	for (i = 0; i < mh->msg_iovlen; i++)
		len += mh->msg_iov[i].iov_len;
	if (len > MAX_REQUEST) {
		errno = EMSGSIZE;
		return (-1);
	}
	if ((buf = malloc(len ? len : 1)) == NULL)
		return (-1);
	for (len = 0, i = 0; i < mh->msg_iovlen; i++) {
		(void) memcpy(buf + len, mh->msg_iov[i].iov_base, mh->msg_iov[i].iov_len);
		len += mh->msg_iov[i].iov_len;
	}
	n = request(st, fd, buf, len, flags);
	free(buf);
	return (n);
}

/* --- receiving: one whole message per read; ENOBUFS once after drops ---- */

static int
take_overflow(struct rts *st)
{
	int over;

	(void) pthread_mutex_lock(&st->lock);
	drain_notices(st);
	over = st->overflow;
	st->overflow = 0;
	(void) pthread_mutex_unlock(&st->lock);
	if (over) {
		errno = ENOBUFS;
		return (-1);
	}
	return (0);
}

/* The agent closing the connection is not an end of file on illumos. */
static ssize_t
received(ssize_t n, size_t len)
{
	if (n == 0 && len > 0) {
		errno = ECONNRESET;
		return (-1);
	}
	return (n);
}

static ssize_t
message(struct rts *st, int fd, void *buf, size_t len, int flags)
{
	if (take_overflow(st) < 0)
		return (-1);
	return (received(REAL(recv)(fd, buf, len, flags), len));
}

EXPORT ssize_t
read(int fd, void *buf, size_t len)
{
	struct rts *st = lookup(fd);

	return (st ? message(st, fd, buf, len, 0) : REAL(read)(fd, buf, len));
}

EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct rts *st = lookup(fd);

	return (st ? message(st, fd, buf, len, flags) : REAL(recv)(fd, buf, len, flags));
}

EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	struct rts *st = lookup(fd);

	if (st == NULL)
		return (REAL(recvfrom)(fd, buf, len, flags, from, fromlen));
	if (from != NULL && fromlen != NULL)
		*fromlen = 0;		/* no source address */
	return (message(st, fd, buf, len, flags));
}

EXPORT ssize_t
recvmsg(int fd, struct msghdr *mh, int flags)
{
	struct rts *st = lookup(fd);
	struct msghdr mine;
	size_t len = 0, i;
	ssize_t n;

	if (st == NULL)
		return (REAL(recvmsg)(fd, mh, flags));
	if (take_overflow(st) < 0)
		return (-1);
	mine = *mh;
	mine.msg_name = NULL;
	mine.msg_namelen = 0;
	mine.msg_control = NULL;
	mine.msg_controllen = 0;
	for (i = 0; i < mh->msg_iovlen; i++)
		len += mh->msg_iov[i].iov_len;
	if ((n = received(REAL(recvmsg)(fd, &mine, flags), len)) >= 0) {
		mh->msg_namelen = 0;
		mh->msg_controllen = 0;
		mh->msg_flags = mine.msg_flags;
	}
	return (n);
}

/* _FORTIFY_SOURCE builds call these instead of read/recv/recvfrom. */
EXPORT ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	struct rts *st = lookup(fd);

	if (st == NULL || len > buflen)
		return (REAL(__read_chk)(fd, buf, len, buflen));
	return (message(st, fd, buf, len, 0));
}

EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	struct rts *st = lookup(fd);

	if (st == NULL || len > buflen)
		return (REAL(__recv_chk)(fd, buf, len, buflen, flags));
	return (message(st, fd, buf, len, flags));
}

EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
    struct sockaddr *from, socklen_t *fromlen)
{
	struct rts *st = lookup(fd);

	if (st == NULL || len > buflen)
		return (REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, from, fromlen));
	return (recvfrom(fd, buf, len, flags, from, fromlen));
}

/* --- options: illumos levels and names, and Linux's for the same options --- */

/*
 * Map (level, name) to illumos' numbers.  Linux's SOL_SOCKET (1) with Linux's
 * option numbers is what Python's socket.SO_RCVBUF and code built here pass;
 * 0xffff is illumos' level with illumos' numbers.  Returns 1 for an option
 * answered here (*local = SO_TYPE, SO_DOMAIN, SO_ERROR), 0 to ask the agent.
 */
static int
map_option(int *level, int *name, int *local)
{
	*local = 0;
	if (*level == SOL_SOCKET) {
		*level = IL_SOL_SOCKET;
		switch (*name) {
		case SO_SNDBUF: *name = IL_SO_SNDBUF; break;
		case SO_RCVBUF: *name = IL_SO_RCVBUF; break;
		case SO_PROTOCOL: *name = IL_SO_PROTOTYPE; break;
		case SO_TYPE: *local = IL_SO_TYPE; break;
		case SO_DOMAIN: *local = IL_SO_DOMAIN; break;
		case SO_ERROR: *local = IL_SO_ERROR; break;
		}
	} else if (*level == IL_SOL_SOCKET && (*name == IL_SO_TYPE || *name == IL_SO_DOMAIN ||
	    *name == IL_SO_ERROR)) {
		*local = *name;
	}
	return (*local != 0);
}

EXPORT int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct rts *st = lookup(fd);
	char req[160];
	int v, local;

	if (st == NULL)
		return (REAL(setsockopt)(fd, level, name, val, len));
	if (val == NULL || len < sizeof (int)) {
		errno = EINVAL;
		return (-1);
	}
	if (map_option(&level, &name, &local)) {
		errno = ENOPROTOOPT;	/* read-only */
		return (-1);
	}
	(void) memcpy(&v, val, sizeof (int));
	if (level == IL_SOL_SOCKET && name == IL_SO_PROTOTYPE && v == AF_INET6)
		v = IL_AF_INET6;
	(void) snprintf(req, sizeof (req),
	    "{\"op\": \"setsockopt\", \"level\": %d, \"name\": %d, \"value\": %d}", level, name, v);
	return (call(st, req, NULL));
}

EXPORT int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct rts *st = lookup(fd);
	char req[160];
	long value;
	int v, local;

	if (st == NULL)
		return (REAL(getsockopt)(fd, level, name, val, len));
	if (val == NULL || len == NULL || *len < sizeof (int)) {
		errno = EINVAL;
		return (-1);
	}
	if (map_option(&level, &name, &local)) {
		/* the type and family the program asked for, as Linux numbers them */
		v = local == IL_SO_TYPE ? SOCK_RAW : local == IL_SO_DOMAIN ? RTS_FAMILY : 0;
	} else {
		(void) snprintf(req, sizeof (req),
		    "{\"op\": \"getsockopt\", \"level\": %d, \"name\": %d}", level, name);
		if (call(st, req, &value) < 0)
			return (-1);
		v = (int)value;
		if (level == IL_SOL_SOCKET && name == IL_SO_PROTOTYPE && v == IL_AF_INET6)
			v = AF_INET6;
	}
	(void) memcpy(val, &v, sizeof (int));
	*len = sizeof (int);
	return (0);
}

EXPORT int
shutdown(int fd, int how)
{
	struct rts *st = lookup(fd);
	char req[64];

	if (st == NULL)
		return (REAL(shutdown)(fd, how));
	(void) snprintf(req, sizeof (req), "{\"op\": \"shutdown\", \"how\": %d}", how);
	return (call(st, req, NULL));
}

/* --- descriptors -------------------------------------------------------- */

EXPORT int
close(int fd)
{
	if (lookup(fd) != NULL)
		detach(fd);
	return (REAL(close)(fd));
}

EXPORT int
dup(int fd)
{
	struct rts *st = lookup(fd);
	int nfd = REAL(dup)(fd);

	if (st != NULL && nfd >= 0)
		attach(nfd, st);
	return (nfd);
}

static int
redup(int fd, int nfd, int rc)
{
	struct rts *st;

	if (rc < 0 || fd == nfd)
		return (rc);
	detach(nfd);	/* nfd was closed by dup2/dup3 */
	if ((st = lookup(fd)) != NULL)
		attach(nfd, st);
	return (rc);
}

EXPORT int
dup2(int fd, int nfd)
{
	return (redup(fd, nfd, REAL(dup2)(fd, nfd)));
}

EXPORT int
dup3(int fd, int nfd, int flags)
{
	return (redup(fd, nfd, REAL(dup3)(fd, nfd, flags)));
}

/* O_NONBLOCK is the data connection's own flag; only F_DUPFD makes a new name. */
static int
fcntl_common(void *real, int fd, int cmd, unsigned long arg)
{
	int rc = ((int (*)(int, int, ...))real)(fd, cmd, arg);
	struct rts *st;

	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && (st = lookup(fd)) != NULL)
		attach(rc, st);
	return (rc);
}

EXPORT int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	unsigned long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return (fcntl_common(REAL(fcntl), fd, cmd, arg));
}

EXPORT int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	unsigned long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return (fcntl_common(REAL(fcntl64), fd, cmd, arg));
}

/* --- interface names: the emulated kernel's indexes --------------------- */

/*
 * Ask the agent's admin channel for one verb line; its output in out.
 * -1 when there is no agent (then libc answers).
 */
static int
admin(const char *verb, const char *arg, char *out, size_t size)
{
	const char *path = getenv("RTSOCK_AGENT");
	struct sockaddr_un sun;
	char req[256], rep[MAX_RECORD];
	const char *p;
	ssize_t n;
	size_t i;
	int s;

	if (path == NULL || strlen(path) + sizeof (".admin") > sizeof (sun.sun_path))
		return (-1);
	(void) memset(&sun, 0, sizeof (sun));
	sun.sun_family = AF_UNIX;
	(void) snprintf(sun.sun_path, sizeof (sun.sun_path), "%s.admin", path);
	if ((s = REAL(socket)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return (-1);
	/* the agent knows our uid from SO_PEERCRED */
	(void) snprintf(req, sizeof (req), "{\"argv\": [\"%s\", \"%s\"]}", verb, arg);
	if (connect(s, (struct sockaddr *)&sun, sizeof (sun)) < 0 ||
	    REAL(send)(s, req, strlen(req), MSG_NOSIGNAL) < 0 ||
	    (n = REAL(recv)(s, rep, sizeof (rep) - 1, 0)) <= 0) {
		(void) REAL(close)(s);
		return (-1);
	}
	(void) REAL(close)(s);
	rep[n] = '\0';
	out[0] = '\0';
	if (rts_json_int_(rep, "rc", 1) != 0)
		return (0);
	if ((p = strstr(rep, "\"out\": \"")) == NULL)
		return (0);
	for (p += 8, i = 0; *p != '\0' && *p != '"' && *p != '\\' && i + 1 < size; p++)
		out[i++] = *p;
	out[i] = '\0';
	return (0);
}

static int
plain_name(const char *name)
{
	const char *p;

	for (p = name; *p != '\0'; p++)
		if (!(*p == '_' || *p == '.' || *p == ':' || *p == '-' ||
		    (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return (0);
	return (p != name && p - name < 32);
}

EXPORT unsigned int
if_nametoindex(const char *name)
{
	char out[64];

	if (name == NULL || !plain_name(name) || admin("ifindex", name, out, sizeof (out)) < 0)
		return (REAL(if_nametoindex)(name));
	if (out[0] < '1' || out[0] > '9') {
		errno = ENXIO;
		return (0);
	}
	return ((unsigned int)strtoul(out, NULL, 10));
}

EXPORT char *
if_indextoname(unsigned int index, char *buf)
{
	char num[16], out[64];
	size_t n;

	(void) snprintf(num, sizeof (num), "%u", index);
	if (admin("ifname", num, out, sizeof (out)) < 0)
		return (REAL(if_indextoname)(index, buf));
	n = strcspn(out, "\n");
	if (n == 0 || n >= 16) {	/* IF_NAMESIZE; LIFNAMSIZ names do not fit */
		errno = ENXIO;
		return (NULL);
	}
	(void) memcpy(buf, out, n);
	buf[n] = '\0';
	return (buf);
}
