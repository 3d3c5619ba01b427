/*
 * /metrics over HTTP (gua daemon --listen ADDR:PORT): the textfile's
 * exposition text, served by libmicrohttpd from its own thread.
 *
 * The collector publishes the text it rendered for the tick; the server
 * only ever copies the latest one, under a mutex held for that copy and
 * for the publisher's pointer swap, never across a read or a write on a
 * socket. A slow or hostile client therefore delays neither a tick nor
 * another scrape: requests are bounded in size, connections in number
 * (in all and per address) and in idle time.
 *
 * Only GET and HEAD of /metrics: 404 for another path, 405 (with Allow)
 * for another method, 503 before the first tick.
 *
 * libmicrohttpd is optional at build time (HAVE_MICROHTTPD, set by the
 * Makefile when pkg-config finds it); without it http_metrics_start says
 * so and --listen is refused.
 *
 * Ownership: http_metrics_start allocates, http_metrics_stop frees.
 * Functions returning int give 0, or -1 with the reason in err.
 */
#ifndef GUA_HTTP_METRICS_H
#define GUA_HTTP_METRICS_H

#include <stddef.h>
#include <sys/socket.h>

/* What the README and the examples use; no other exporter's default. */
#define HTTP_METRICS_PORT	9877
#define HTTP_METRICS_PATH	"/metrics"

struct http_metrics;

/*
 * "ADDR:PORT": an IPv4 address or a bracketed IPv6 one ("[::1]:9877"),
 * numeric (no name lookup), and a port from 1 to 65535.
 */
int	http_metrics_parse(const char *spec, struct sockaddr_storage *addr,
	    socklen_t *addrlen, char *err, size_t errlen);
/* Whether this gua was built with libmicrohttpd. */
int	http_metrics_available(void);
/*
 * Binds spec (already checked by http_metrics_parse) and starts serving;
 * a port in use is an error here, at start-up.
 */
int	http_metrics_start(struct http_metrics **, const char *spec,
	    char *err, size_t errlen);
/*
 * Makes text (malloc'ed, len bytes) what the next scrapes get; takes it
 * over and frees the previous one. A NULL h frees text.
 */
void	http_metrics_publish(struct http_metrics *h, char *text, size_t len);
/* Stops serving (connections in progress are closed) and frees. */
void	http_metrics_stop(struct http_metrics *);

#endif
