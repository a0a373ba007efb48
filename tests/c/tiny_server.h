/* tiny_server.h: a real HTTP/1.1 server on 127.0.0.1 (a free port) in a thread, for the C tests that need
 * libcurl to run real transfers (test_sched.c). One request per connection (it answers with
 * "Connection: close"), each connection in a thread of its own so that a held one does not hold up the
 * others. What it answers depends on the request's path:
 *
 *   ".../hold..."      nothing: the connection stays open until the client drops it or the server stops
 *   ".../flaky..."     503 (a JSON error) the first time that path comes, then 200
 *   ".../busy429..."   429 with "Retry-After: 2" the first time that path comes, then 200
 *   anything else      200 {"accessToken": "tok"}
 *
 * tiny_server_log_* report the paths in the order their requests arrived. */
#ifndef TINY_SERVER_H
#define TINY_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TINY_MAX_REQUESTS 256
#define TINY_MAX_CONNS 256

typedef struct {
    int listen_fd;
    int port;
    char url[64];
    atomic_int stop;
    pthread_t acceptor;
    pthread_mutex_t lock;          /* guards what follows */
    char paths[TINY_MAX_REQUESTS][128];
    int n_requests;
    pthread_t conns[TINY_MAX_CONNS];
    int n_conns;
} tiny_server;

typedef struct {
    tiny_server *srv;
    int fd;
} tiny_conn;

/* Waits up to 20 ms for fd to be readable; 1 readable (or hung up), 0 not yet. */
static int tiny_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 20) > 0;
}

/* Reads one request's head; its path into path. Returns 0, or -1 (the peer left, or the server stops). */
static int tiny_read_request(tiny_server *srv, int fd, char *path, size_t pathlen)
{
    char buf[4096] = "";
    size_t len = 0;
    while (!strstr(buf, "\r\n\r\n")) {
        if (atomic_load(&srv->stop))
            return -1;
        if (!tiny_readable(fd))
            continue;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0 || len + (size_t)n >= sizeof buf - 1)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
    }
    if (sscanf(buf, "GET %127s HTTP/1.1", path) != 1 || strlen(path) >= pathlen)
        return -1;
    return 0;
}

/* Logs path; returns how many requests for the same path came before it. */
static int tiny_log(tiny_server *srv, const char *path)
{
    int seen = 0;
    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->n_requests; i++)
        seen += strcmp(srv->paths[i], path) == 0;
    if (srv->n_requests < TINY_MAX_REQUESTS)
        snprintf(srv->paths[srv->n_requests++], sizeof srv->paths[0], "%s", path);
    pthread_mutex_unlock(&srv->lock);
    return seen;
}

static void tiny_reply(int fd, const char *status, const char *extra_headers, const char *body)
{
    char out[512];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n%s",
                     status, strlen(body), extra_headers, body);
    ssize_t sent = send(fd, out, (size_t)n, MSG_NOSIGNAL);
    (void)sent; /* a client that left early is not the server's failure */
}

static void *tiny_conn_main(void *arg)
{
    tiny_conn conn = *(tiny_conn *)arg;
    free(arg);
    char path[128] = "";
    if (tiny_read_request(conn.srv, conn.fd, path, sizeof path) == 0) {
        int seen = tiny_log(conn.srv, path);
        if (strstr(path, "hold")) {
            char sink[256];
            /* until the client drops the connection or the server stops */
            while (!atomic_load(&conn.srv->stop))
                if (tiny_readable(conn.fd) && recv(conn.fd, sink, sizeof sink, 0) <= 0)
                    break;
        } else if (strstr(path, "flaky") && seen == 0) {
            tiny_reply(conn.fd, "503 Service Unavailable", "", "{\"error\": \"busy\"}");
        } else if (strstr(path, "busy429") && seen == 0) {
            tiny_reply(conn.fd, "429 Too Many Requests", "Retry-After: 2\r\n", "{\"error\": \"slow down\"}");
        } else {
            tiny_reply(conn.fd, "200 OK", "", "{\"accessToken\": \"tok\"}");
        }
    }
    close(conn.fd);
    return NULL;
}

static void *tiny_accept_main(void *arg)
{
    tiny_server *srv = arg;
    while (!atomic_load(&srv->stop)) {
        if (!tiny_readable(srv->listen_fd))
            continue;
        int fd = accept(srv->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        tiny_conn *conn = malloc(sizeof *conn);
        pthread_mutex_lock(&srv->lock);
        int room = srv->n_conns < TINY_MAX_CONNS;
        if (conn && room) {
            conn->srv = srv;
            conn->fd = fd;
            if (pthread_create(&srv->conns[srv->n_conns], NULL, tiny_conn_main, conn) == 0) {
                srv->n_conns++;
                conn = NULL;
                fd = -1;
            }
        }
        pthread_mutex_unlock(&srv->lock);
        free(conn);
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

/* Listens on 127.0.0.1 at a free port; srv->url is "http://127.0.0.1:<port>". Returns 0, or -1. */
static int tiny_server_start(tiny_server *srv)
{
    memset(srv, 0, sizeof *srv);
    pthread_mutex_init(&srv->lock, NULL);
    srv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (srv->listen_fd < 0 || bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(srv->listen_fd, 64) != 0 || getsockname(srv->listen_fd, (struct sockaddr *)&addr, &alen) != 0)
        return -1;
    srv->port = ntohs(addr.sin_port);
    snprintf(srv->url, sizeof srv->url, "http://127.0.0.1:%d", srv->port);
    return pthread_create(&srv->acceptor, NULL, tiny_accept_main, srv) == 0 ? 0 : -1;
}

static void tiny_server_stop(tiny_server *srv)
{
    atomic_store(&srv->stop, 1);
    pthread_join(srv->acceptor, NULL);
    for (int i = 0; i < srv->n_conns; i++)
        pthread_join(srv->conns[i], NULL);
    close(srv->listen_fd);
    pthread_mutex_destroy(&srv->lock);
}

/* How many requests have come whose path contains part. */
static int tiny_server_count(tiny_server *srv, const char *part)
{
    int n = 0;
    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->n_requests; i++)
        n += strstr(srv->paths[i], part) != NULL;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

/* The arrival index of the first request whose path contains part, or -1. */
static int tiny_server_first(tiny_server *srv, const char *part)
{
    int at = -1;
    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->n_requests && at < 0; i++)
        if (strstr(srv->paths[i], part))
            at = i;
    pthread_mutex_unlock(&srv->lock);
    return at;
}

#endif
