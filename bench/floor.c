/*
 * floor.c - the fastest a Codat access-token fetch can be on this machine.
 *
 * One kept libcurl easy handle per thread (keep-alive), the same request the
 * Python contenders send (GET + Authorization + Accept headers), the body
 * collected into a reused buffer, parsed with cJSON, and the accessToken
 * string copied out. Nothing a Python wrapper around libcurl + cJSON can do
 * is cheaper, so this is the floor every contender is compared to.
 *
 * Build: cc -O2 -o floor floor.c $(pkg-config --cflags --libs libcurl libcjson) -lpthread
 * Usage: floor URL N [CA_PATH|-] [THREADS] [WARMUP] [BLOCKS]
 *   URL      full URL of the token endpoint
 *   N        measured calls in total (split evenly over THREADS)
 *   CA_PATH  CA bundle for https ("-" or absent: libcurl's default)
 *   THREADS  threads, each with its own easy handle (default 1)
 *   WARMUP   unmeasured calls per thread first (default 200; opens the connection)
 *   BLOCKS   with 1 thread: time the N calls in this many equal blocks and report
 *            the median block (robust to bursts of other load); default 1
 * Prints one JSON object on stdout: elapsed and CPU (getrusage RUSAGE_SELF,
 * user+system, all threads) microseconds per call, and calls per second.
 */
#include <curl/curl.h>
#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

typedef struct {
    const char *url;
    const char *ca;
    long calls;
    long warmup;
    int blocks;        /* > 1: time blocks of calls (single thread only) */
    double *blk_wall;  /* per-block microseconds per call */
    double *blk_cpu;
    int failed;
    char token[256];
    pthread_barrier_t *barrier;
} job_t;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
    buf_t *b = ud;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = 0;
    return n;
}

/* One call: perform, check status, parse, copy the token out. 0 on success. */
static int one_call(CURL *h, buf_t *b, char *token, size_t toklen) {
    b->len = 0;
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "floor: curl: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "floor: HTTP %ld\n", status);
        return -1;
    }
    cJSON *root = cJSON_ParseWithLength(b->data, b->len);
    if (!root) {
        fprintf(stderr, "floor: bad JSON\n");
        return -1;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "accessToken");
    int ok = cJSON_IsString(t) && t->valuestring;
    if (ok) {
        strncpy(token, t->valuestring, toklen - 1);
        token[toklen - 1] = 0;
    }
    cJSON_Delete(root);
    return ok ? 0 : -1;
}

static double now_us(void);
static double cpu_us(void);

static void *run(void *arg) {
    job_t *j = arg;
    buf_t b = {0};
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Authorization: Basic QVBJX0tFWQ==");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_URL, j->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    if (j->ca && strcmp(j->ca, "-") != 0) curl_easy_setopt(h, CURLOPT_CAINFO, j->ca);

    for (long i = 0; i < j->warmup && !j->failed; i++)
        if (one_call(h, &b, j->token, sizeof j->token)) j->failed = 1;
    pthread_barrier_wait(j->barrier); /* main thread starts the clock here */
    if (j->blocks > 1) {
        long per = j->calls / j->blocks;
        for (int k = 0; k < j->blocks && !j->failed; k++) {
            double t0 = now_us(), c0 = cpu_us();
            for (long i = 0; i < per && !j->failed; i++)
                if (one_call(h, &b, j->token, sizeof j->token)) j->failed = 1;
            j->blk_wall[k] = (now_us() - t0) / per;
            j->blk_cpu[k] = (cpu_us() - c0) / per;
        }
    } else {
        for (long i = 0; i < j->calls && !j->failed; i++)
            if (one_call(h, &b, j->token, sizeof j->token)) j->failed = 1;
    }

    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    free(b.data);
    return NULL;
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s URL N [CA_PATH|-] [THREADS] [WARMUP] [BLOCKS]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    long n = atol(argv[2]);
    const char *ca = argc > 3 ? argv[3] : "-";
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    long warmup = argc > 5 ? atol(argv[5]) : 200;
    int blocks = argc > 6 ? atoi(argv[6]) : 1;
    if (threads != 1 || blocks < 1 || blocks > n) blocks = 1;
    if (n <= 0 || threads <= 0 || threads > 256) {
        fprintf(stderr, "floor: bad N or THREADS\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);

    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    job_t *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    long per = n / threads;
    double *blk_wall = calloc((size_t)blocks, sizeof(double));
    double *blk_cpu = calloc((size_t)blocks, sizeof(double));
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job_t){.url = url, .ca = ca, .calls = per + (i < n % threads ? 1 : 0),
                          .warmup = warmup, .blocks = blocks, .blk_wall = blk_wall,
                          .blk_cpu = blk_cpu, .barrier = &barrier};
        pthread_create(&tids[i], NULL, run, &jobs[i]);
    }
    pthread_barrier_wait(&barrier);
    double t0 = now_us(), c0 = cpu_us();
    for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
    double t1 = now_us(), c1 = cpu_us();

    int failed = 0;
    for (int i = 0; i < threads; i++) failed |= jobs[i].failed;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double wall_pc = (t1 - t0) / n, cpu_pc = (c1 - c0) / n;
    if (blocks > 1 && !failed) {
        wall_pc = median(blk_wall, blocks);
        cpu_pc = median(blk_cpu, blocks);
    }
    printf("{\"contender\":\"floor\",\"ok\":%s,\"calls\":%ld,\"threads\":%d,"
           "\"blocks\":%d,\"elapsed_us_per_call\":%.3f,\"cpu_us_per_call\":%.3f,\"calls_per_s\":%.1f,"
           "\"maxrss_kb\":%ld,\"token\":\"%s\",\"libcurl\":\"%s\"}\n",
           failed ? "false" : "true", n, threads, blocks, wall_pc, cpu_pc,
           n / ((t1 - t0) / 1e6), ru.ru_maxrss, jobs[0].token, curl_version());
    free(jobs);
    free(tids);
    free(blk_wall);
    free(blk_cpu);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
