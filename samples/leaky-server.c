/* SPDX-License-Identifier: MIT */
/* A simulated server to watch memprof on a program that runs: clients connect, send
 * messages and disconnect; every message is parsed into a request that is handled and freed.
 * Two things make the heap grow:
 *   - copy_upload_metadata() copies each upload's metadata and the copy is never freed: a
 *     slow leak in one request path (uploads), the kind that memprof trend should name;
 *   - a response cache (cache_store) that grows for the first 60% of the run and is then
 *     dropped whole (cache_drop_all): memory that grows and is released, not a leak.
 *
 *   leaky-server [SECONDS]     run for SECONDS (default 4), then print a summary and exit
 *
 * Try: MEMPROF_INTERVAL=500ms MEMPROF_OUTPUT=server.%n.gz memprof run -- ./leaky-server 6
 * and compare the snapshots (memprof trend server.*.gz), or send it the signal set in
 * MEMPROF_SIGNAL while it runs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONNECTIONS 32
#define READ_BUFFER_BYTES 4096

struct request {
	enum { REQ_GET, REQ_UPLOAD, REQ_STATS } kind;
	char *path;
	char *body;
	size_t body_len;
};

struct connection {
	int id;
	char *read_buffer;
	unsigned messages;
};

struct cache_entry {
	struct cache_entry *next;
	char *key;
	char *response;
};

struct upload_metadata {
	char content_type[32];
	char client[48];
	uint64_t size;
};

static struct connection *connections[MAX_CONNECTIONS];
static struct cache_entry *cache;
static unsigned long n_connections, n_messages, n_uploads, n_cached, n_dropped;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static unsigned next_random(unsigned below)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % below);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) /* a profiler's signal: sleep on */
		;
}

static struct connection *accept_connection(void)
{
	struct connection *c = calloc(1, sizeof(*c));
	c->id = (int)++n_connections;
	c->read_buffer = malloc(READ_BUFFER_BYTES);
	return c;
}

static void close_connection(struct connection *c)
{
	free(c->read_buffer);
	free(c);
}

/* A message off the wire, as a request with its own copies of the path and body. */
static struct request *parse_request(struct connection *c)
{
	struct request *r = malloc(sizeof(*r));
	unsigned pick = next_random(8);
	r->kind = pick == 0 ? REQ_UPLOAD : pick == 1 ? REQ_STATS : REQ_GET;
	char path[64];
	snprintf(path, sizeof(path), "/items/%u", next_random(5000));
	r->path = strdup(path);
	r->body_len = r->kind == REQ_UPLOAD ? 256 + next_random(4096) : 0;
	r->body = r->body_len ? malloc(r->body_len) : NULL;
	if (r->body)
		memset(r->body, 'x', r->body_len);
	snprintf(c->read_buffer, READ_BUFFER_BYTES, "%s", path);
	return r;
}

static void free_request(struct request *r)
{
	free(r->path);
	free(r->body);
	free(r);
}

static void cache_store(const char *key, size_t response_bytes)
{
	struct cache_entry *e = malloc(sizeof(*e));
	e->key = strdup(key);
	e->response = malloc(response_bytes);
	memset(e->response, 'r', response_bytes);
	e->next = cache;
	cache = e;
	n_cached++;
}

static void cache_drop_all(void)
{
	while (cache) {
		struct cache_entry *e = cache;
		cache = e->next;
		free(e->key);
		free(e->response);
		free(e);
		n_dropped++;
	}
}

/* The bug: the copy is made for an audit log that was never written, and never freed. */
static struct upload_metadata *copy_upload_metadata(const struct request *r)
{
	struct upload_metadata *m = malloc(sizeof(*m));
	snprintf(m->content_type, sizeof(m->content_type), "application/octet-stream");
	snprintf(m->client, sizeof(m->client), "client for %s", r->path);
	m->size = r->body_len;
	return m;
}

static void handle_upload_request(const struct request *r)
{
	struct upload_metadata *m = copy_upload_metadata(r);
	char *stored = malloc(r->body_len); /* "written to disk", then freed */
	memcpy(stored, r->body, r->body_len);
	free(stored);
	n_uploads += m->size > 0;
}

static void handle_get_request(const struct request *r, int caching)
{
	char *response = malloc(512);
	snprintf(response, 512, "200 OK %s", r->path);
	if (caching)
		cache_store(r->path, 1024 + next_random(2048));
	free(response);
}

static void handle_message(struct connection *c, int caching)
{
	struct request *r = parse_request(c);
	switch (r->kind) {
	case REQ_UPLOAD:
		handle_upload_request(r);
		break;
	case REQ_GET:
		handle_get_request(r, caching);
		break;
	case REQ_STATS:
		break;
	}
	free_request(r);
	c->messages++;
	n_messages++;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 4.0;
	if (argc > 2 || seconds <= 0) {
		fprintf(stderr, "usage: leaky-server [SECONDS]\n");
		return 2;
	}
	double start = now_s(), end = start + seconds, drop_at = start + seconds * 0.6;
	int dropped = 0;
	while (now_s() < end) {
		int caching = now_s() < drop_at;
		if (!caching && !dropped) {
			cache_drop_all();
			dropped = 1;
		}
		for (int i = 0; i < 4; i++) {
			unsigned slot = next_random(MAX_CONNECTIONS);
			if (!connections[slot])
				connections[slot] = accept_connection();
			handle_message(connections[slot], caching);
			if (next_random(40) == 0) { /* the client hangs up */
				close_connection(connections[slot]);
				connections[slot] = NULL;
			}
		}
		sleep_ms(1);
	}
	if (!dropped)
		cache_drop_all();
	for (int i = 0; i < MAX_CONNECTIONS; i++) {
		if (connections[i])
			close_connection(connections[i]);
	}
	printf("leaky-server: %lu connections, %lu messages, %lu uploads; cache held %lu responses, all released\n",
	       n_connections, n_messages, n_uploads, n_cached);
	return n_cached == n_dropped ? 0 : 1;
}
