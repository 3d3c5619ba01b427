/*
 * /metrics over HTTP with libmicrohttpd (http-metrics.h). The listening
 * socket is made here, so that an address in use or not this host's is
 * said in words at start-up; libmicrohttpd's own thread then accepts and
 * answers on it (epoll where there is one), never the collector's.
 *
 * libmicrohttpd is loaded (dlopen) by --listen only: linked, it and what
 * it brings (GnuTLS, nettle, p11-kit, ...) took 2.7 MB of every gua
 * process's memory, a collector without --listen included.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http-metrics.h"
#include "util.h"

/*
 * The limits: a request line and headers beyond CONN_MEMORY bytes are
 * answered with an error and the connection closed; at most CONN_MAX
 * connections, PER_IP_MAX from one address (Prometheus needs one, a
 * person with curl one more); a connection idle for CONN_TIMEOUT_S is
 * closed, so a client that sends half a request holds a slot that long
 * and nothing else.
 */
#define CONN_MEMORY	(16 * 1024)
#define CONN_MAX	64
#define PER_IP_MAX	8
#define CONN_TIMEOUT_S	10
#define LISTEN_BACKLOG	32

/* The exposition format's media type, as Prometheus asks for it. */
#define CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

int
http_metrics_parse(const char *spec, struct sockaddr_storage *addr,
    socklen_t *addrlen, char *err, size_t errlen)
{
	char host[64];
	const char *colon, *h = spec, *port_s;
	size_t hlen;
	unsigned long port;
	char *end;

	memset(addr, 0, sizeof(*addr));
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':')
			return util_err(err, errlen, "'%s': expected ADDR:PORT "
			    "or [IPv6]:PORT", spec);
		h = spec + 1;
		hlen = (size_t)(close - h);
		port_s = close + 2;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			return util_err(err, errlen, "'%s': expected ADDR:PORT "
			    "(for example 127.0.0.1:%d)", spec,
			    HTTP_METRICS_PORT);
		hlen = (size_t)(colon - spec);
		port_s = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return util_err(err, errlen, "'%s': expected an address before "
		    "the port (0.0.0.0 for every address)", spec);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (port_s[0] < '0' || port_s[0] > '9' || *end != '\0' || errno != 0 ||
	    port == 0 || port > 65535)
		return util_err(err, errlen, "'%s': the port must be a number "
		    "from 1 to 65535", spec);
	if (h == spec + 1) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return util_err(err, errlen, "'%s': not an IPv6 "
			    "address", spec);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*addrlen = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)addr;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return util_err(err, errlen, "'%s': not an IPv4 address "
			    "(an IPv6 one goes in brackets; no host names)",
			    spec);
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*addrlen = sizeof(*a4);
	}
	return 0;
}

#ifdef HAVE_MICROHTTPD

#include <dlfcn.h>
#include <pthread.h>

#include <microhttpd.h>

/* The library's soname: its ABI has been 12 since 2013. */
#define MHD_SONAME	"libmicrohttpd.so.12"

/* The functions used, from the library loaded at the first --listen. */
static struct {
	__typeof__(MHD_start_daemon)		*start_daemon;
	__typeof__(MHD_stop_daemon)		*stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *create_response;
	__typeof__(MHD_add_response_header)	*add_header;
	__typeof__(MHD_queue_response)		*queue_response;
	__typeof__(MHD_destroy_response)	*destroy_response;
} mhd;

/* Loads libmicrohttpd once; 0, or -1 with the reason. */
static int
load_mhd(const char *spec, char *err, size_t errlen)
{
	const char *why;
	void *lib;

	if (mhd.start_daemon != NULL)
		return 0;
	if ((lib = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		return util_err(err, errlen, "--listen %s: cannot load %s (%s); "
		    "install libmicrohttpd12", spec, MHD_SONAME, why != NULL ?
		    why : "not found");
	}
	/* Casts through a data pointer, as dlsym gives functions. */
#define SYM(field, name) \
	*(void **)(&mhd.field) = dlsym(lib, name)
	SYM(stop_daemon, "MHD_stop_daemon");
	SYM(create_response, "MHD_create_response_from_buffer");
	SYM(add_header, "MHD_add_response_header");
	SYM(queue_response, "MHD_queue_response");
	SYM(destroy_response, "MHD_destroy_response");
	SYM(start_daemon, "MHD_start_daemon");
#undef SYM
	if (mhd.stop_daemon == NULL || mhd.create_response == NULL ||
	    mhd.add_header == NULL || mhd.queue_response == NULL ||
	    mhd.destroy_response == NULL || mhd.start_daemon == NULL) {
		mhd.start_daemon = NULL;
		dlclose(lib);
		return util_err(err, errlen, "--listen %s: %s lacks functions "
		    "gua needs", spec, MHD_SONAME);
	}
	return 0;
}

struct http_metrics {
	struct MHD_Daemon *mhd;
	pthread_mutex_t	 lock;		/* guards text and len */
	char		*text;		/* the latest exposition; NULL none */
	size_t		 len;
};

int
http_metrics_available(void)
{
	return 1;
}

/* A short answer of status with a plain-text body. */
static enum MHD_Result
answer_text(struct MHD_Connection *conn, unsigned status, const char *body,
    const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = mhd.create_response(strlen(body), (void *)(uintptr_t)
	    body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	mhd.add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (allow != NULL)
		mhd.add_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	rc = mhd.queue_response(conn, status, r);
	mhd.destroy_response(r);
	return rc;
}

/*
 * Every request, once its headers are in (a body, if any, is never read:
 * the answer goes first and the connection closes). HEAD gets GET's
 * headers without the body: libmicrohttpd leaves it out.
 */
static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_metrics *h = cls;
	struct MHD_Response *r = NULL;
	enum MHD_Result rc;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET and HEAD\n", "GET, HEAD");
	if (strcmp(url, HTTP_METRICS_PATH) != 0)
		return answer_text(conn, MHD_HTTP_NOT_FOUND,
		    "not found: the metrics are at " HTTP_METRICS_PATH "\n",
		    NULL);
	/* The copy is all that happens under the lock. */
	pthread_mutex_lock(&h->lock);
	if (h->text != NULL)
		r = mhd.create_response(h->len, h->text,
		    MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&h->lock);
	if (r == NULL)
		return answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "no tick recorded yet\n", NULL);
	mhd.add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	rc = mhd.queue_response(conn, MHD_HTTP_OK, r);
	mhd.destroy_response(r);
	return rc;
}

/* The listening socket, bound and listening; -1 with the reason. */
static int
listen_on(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd, one = 1;

	if (http_metrics_parse(spec, &addr, &addrlen, err, errlen) != 0)
		return -1;
	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0)
		return util_err(err, errlen, "--listen %s: cannot make a "
		    "socket: %s", spec, strerror(errno));
	/* A restart must not wait for the old connections' TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		int e = errno;

		close(fd);
		return util_err(err, errlen, "--listen %s: %s%s", spec,
		    strerror(e), e == EADDRINUSE ? " (another program, or "
		    "another collector, serves that port)" : "");
	}
	return fd;
}

int
http_metrics_start(struct http_metrics **out, const char *spec, char *err,
    size_t errlen)
{
	struct http_metrics *h;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
	int fd;

	*out = NULL;
	if (load_mhd(spec, err, errlen) != 0)
		return -1;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return util_err(err, errlen, "out of memory");
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		free(h);
		return util_err(err, errlen, "cannot make a mutex");
	}
	if ((fd = listen_on(spec, err, errlen)) < 0) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -1;
	}
	if (spec[0] == '[')
		flags |= MHD_USE_IPv6;
	/* No MHD_USE_ERROR_LOG: what a hostile client makes it say would
	   fill the collector's log. */
	h->mhd = mhd.start_daemon(flags, 0, NULL, NULL, answer, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		close(fd);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return util_err(err, errlen, "--listen %s: libmicrohttpd could "
		    "not start", spec);
	}
	*out = h;
	return 0;
}

void
http_metrics_publish(struct http_metrics *h, char *text, size_t len)
{
	char *old;

	if (h == NULL) {
		free(text);
		return;
	}
	pthread_mutex_lock(&h->lock);
	old = h->text;
	h->text = text;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
	free(old);
}

void
http_metrics_stop(struct http_metrics *h)
{
	if (h == NULL)
		return;
	/* Joins the server's thread and closes the listening socket. */
	mhd.stop_daemon(h->mhd);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}

#else	/* !HAVE_MICROHTTPD */

struct http_metrics {
	int	unused;
};

int
http_metrics_available(void)
{
	return 0;
}

int
http_metrics_start(struct http_metrics **out, const char *spec, char *err,
    size_t errlen)
{
	(void)spec;
	*out = NULL;
	return util_err(err, errlen, "--listen: this gua was built without "
	    "libmicrohttpd (install libmicrohttpd-dev and build again)");
}

void
http_metrics_publish(struct http_metrics *h, char *text, size_t len)
{
	(void)h;
	(void)len;
	free(text);
}

void
http_metrics_stop(struct http_metrics *h)
{
	(void)h;
}

#endif
