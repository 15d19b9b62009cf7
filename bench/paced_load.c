/*
 * Open-loop check-in load at a fixed rate, for bench.api_checkins' half-peak phase.
 *
 *     paced_load HOST PORT RATE SECONDS CONNECTIONS TOKEN < goal_ids.txt > result.json
 *
 * Request i falls due at start + i / RATE and goes out on the next free connection in turn (or
 * as soon as one is); its latency counts from when it fell due, so a server falling behind shows
 * as latency, not as a lower rate. Every request is POST /v1/goals/{goal}/check-ins with the
 * bearer token and {"amount": 1}, the goals (one per line on stdin) taken in turn. Writes one
 * JSON object in the shape of bench.http_load.LoadResult.
 *
 * The same load as bench/http_load.py's open loop, in C: that one spends about 0.14 ms of CPU
 * per request, taken from the cores of the servers it measures; this one a tenth of that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY "{\"amount\": 1}"
#define TIMEOUT_NS 10000000000LL
#define DRAIN_NS 15000000000LL
#define MAX_GOALS 100000
#define ANSWER_MAX 65536

typedef struct {
    int fd;
    int busy;
    long long due_ns;
    long long sent_ns;
    size_t written;
    const char *request;
    size_t request_length;
    char answer[ANSWER_MAX];
    size_t received;
} connection;

static struct addrinfo *server;
static int epoll_fd;
static long long *latencies;
static long long answered, non_2xx, transport_errors, statuses[600];

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void fail(const char *what) {
    perror(what);
    exit(2);
}

static int open_connection(connection *c) {
    c->fd = socket(server->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) fail("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, server->ai_addr, server->ai_addrlen) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    /* Edge-triggered: told once when it becomes writable (connected), not all the time. */
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &event) < 0) fail("epoll_ctl");
    return 0;
}

static void close_connection(connection *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->busy = 0;
    c->received = 0;
}

static void settle(connection *c, int status) {
    if (status < 0) {
        transport_errors++;
    } else {
        latencies[answered++] = now_ns() - c->due_ns;
        if (status < 600) statuses[status]++;
        if (status < 200 || status >= 300) non_2xx++;
    }
    c->busy = 0;
}

static void write_some(connection *c) {
    while (c->written < c->request_length) {
        ssize_t n = write(c->fd, c->request + c->written, c->request_length - c->written);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINPROGRESS || errno == ENOTCONN) return;
            settle(c, -1);
            close_connection(c);
            return;
        }
        c->written += (size_t)n;
    }
}

static void send_request(connection *c, const char *request, size_t length, long long due) {
    if (c->fd < 0 && open_connection(c) < 0) {
        c->due_ns = due;
        settle(c, -1);
        return;
    }
    c->busy = 1;
    c->due_ns = due;
    c->sent_ns = now_ns();
    c->request = request;
    c->request_length = length;
    c->written = 0;
    c->received = 0;
    write_some(c);
}

/* 1 when a whole answer is in, after settling it; 0 while more is to come. */
static int read_answer(connection *c) {
    for (;;) {
        ssize_t n = read(c->fd, c->answer + c->received, ANSWER_MAX - 1 - c->received);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            if (c->busy) settle(c, -1);
            close_connection(c);
            return 1;
        }
        if (n < 0) break;
        c->received += (size_t)n;
        if (c->received >= ANSWER_MAX - 1) break;
    }
    c->answer[c->received] = '\0';
    char *end = strstr(c->answer, "\r\n\r\n");
    if (end == NULL) return 0;
    char *length = strcasestr(c->answer, "\r\ncontent-length:");
    size_t body = (length != NULL && length < end) ? strtoul(length + 17, NULL, 10) : 0;
    if (c->received < (size_t)(end + 4 - c->answer) + body) return 0;
    int status = (strncmp(c->answer, "HTTP/1.", 7) == 0) ? atoi(c->answer + 9) : -1;
    char *closing = strcasestr(c->answer, "\r\nconnection: close");
    settle(c, status);
    if (closing != NULL && closing < end) close_connection(c);
    c->received = 0;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s HOST PORT RATE SECONDS CONNECTIONS TOKEN < goals\n", argv[0]);
        return 2;
    }
    const char *host = argv[1], *port = argv[2], *token = argv[6];
    double rate = atof(argv[3]), seconds = atof(argv[4]);
    int connections = atoi(argv[5]);
    long long total = (long long)(rate * seconds + 0.5);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (getaddrinfo(host, port, &hints, &server) != 0) fail("getaddrinfo");

    static char goal[MAX_GOALS][64];
    int goals = 0;
    while (goals < MAX_GOALS && scanf("%63s", goal[goals]) == 1) goals++;
    if (goals == 0 || rate <= 0 || connections <= 0) return 2;
    char **requests = calloc((size_t)goals, sizeof *requests);
    size_t *lengths = calloc((size_t)goals, sizeof *lengths);
    for (int i = 0; i < goals; i++) {
        int n = asprintf(&requests[i],
                         "POST /v1/goals/%s/check-ins HTTP/1.1\r\nHost: %s:%s\r\n"
                         "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n%s",
                         goal[i], host, port, token, strlen(BODY), BODY);
        if (n < 0) fail("asprintf");
        lengths[i] = (size_t)n;
    }
    latencies = calloc((size_t)total + 1, sizeof *latencies);
    connection *pool = calloc((size_t)connections, sizeof *pool);
    epoll_fd = epoll_create1(0);
    if (epoll_fd < 0) fail("epoll_create1");
    for (int i = 0; i < connections; i++) {
        pool[i].fd = -1;
        if (open_connection(&pool[i]) < 0) fail("connect");
    }

    long long began = now_ns(), next = 0, done = 0;
    double interval = 1e9 / rate;
    struct epoll_event events[256];
    /* Where the search for a free connection starts: just after the one used last, so that the
     * requests go round all the connections, as from as many clients, and so round all of the
     * server's workers. Starting from the first would send nearly every request down the few
     * lowest connections, and so to whichever worker happened to accept those. */
    int cursor = 0;
    while (done < total) {
        long long now = now_ns();
        if (now - began > (long long)(seconds * 1e9) + DRAIN_NS) break;
        /* Everything due goes out now, on free connections; the rest waits for one. */
        int free_left = 0;
        for (int k = 0; k < connections; k++) {
            int i = (cursor + k) % connections;
            if (pool[i].busy) continue;
            long long due = began + (long long)(next * interval);
            if (next >= total || due > now) {
                free_left = 1;
                break;
            }
            int g = (int)(next % goals);
            send_request(&pool[i], requests[g], lengths[g], due);
            if (!pool[i].busy) done++; /* failed at once */
            next++;
            cursor = (i + 1) % connections;
        }
        for (int i = 0; i < connections; i++) {
            if (pool[i].busy && now - pool[i].sent_ns > TIMEOUT_NS) {
                settle(&pool[i], -1);
                close_connection(&pool[i]);
                done++;
            }
        }
        /* Until the next request falls due, or, with none free, until an answer frees one. */
        long long wake = next < total && free_left ? began + (long long)(next * interval)
                                                   : now + 5000000;
        long long wait_ns = wake - now_ns();
        if (wait_ns < 0) wait_ns = 0;
        /* Nanoseconds, not epoll_wait's milliseconds: requests fall due every half millisecond. */
        struct timespec timeout = {.tv_sec = wait_ns / 1000000000LL, .tv_nsec = wait_ns % 1000000000LL};
        int ready = epoll_pwait2(epoll_fd, events, 256, &timeout, NULL);
        if (ready < 0 && errno != EINTR) fail("epoll_pwait2");
        for (int e = 0; e < ready; e++) {
            connection *c = events[e].data.ptr;
            if (c->fd < 0) continue;
            if ((events[e].events & EPOLLOUT) && c->busy) write_some(c);
            if (events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                int was_busy = c->busy;
                if (read_answer(c) && was_busy) done++;
            }
        }
    }
    transport_errors += total - done;

    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
                 usage.ru_stime.tv_usec / 1e6;
    printf("{\"requests\": %lld, \"seconds\": %.3f, \"latencies_ns\": [", answered, seconds);
    for (long long i = 0; i < answered; i++) printf(i ? ",%lld" : "%lld", latencies[i]);
    printf("], \"non_2xx\": %lld, \"transport_errors\": %lld, \"statuses\": {", non_2xx,
           transport_errors);
    int first = 1;
    for (int s = 0; s < 600; s++) {
        if (statuses[s] == 0) continue;
        printf(first ? "\"%d\": %lld" : ", \"%d\": %lld", s, statuses[s]);
        first = 0;
    }
    printf("}, \"cpu_seconds\": %.3f, \"first_error\": null}\n", cpu);
    return 0;
}
