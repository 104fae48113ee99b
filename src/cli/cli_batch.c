/* SPDX-License-Identifier: MIT */
#include "cli/cli_batch.h"

#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "atomic.h"
#include "cli/cli_common.h"
#include "error.h"
#include "i18n.h"
#include "layout/layout.h"
#include "input/profile.h"
#include "input/rules.h"
#include "trust/qrtoken.h"

/* The engine's QR signer: "#cp1.TOKEN" over the record's printed fields. */
static char *qr_sign(const cp_record *rec, const char *url, void *ud, cp_error **err)
{
	const cli_batch *b = ud;
	char *v[CP_QRT_NKEYS];
	cp_qrtoken_fields_of(b->profile, rec, v);
	cp_qrtoken_fields f;
	for (int k = 0; k < CP_QRT_NKEYS; k++)
		f.v[k] = v[k];
	char *out = cp_qrtoken_fragment(b->qr_signer, &f, url, err);
	for (int k = 0; k < CP_QRT_NKEYS; k++)
		g_free(v[k]);
	return out;
}

/* Fonts and an engine over the batch's template and profile (both only read,
 * so every worker's engine may share them). */
static bool engine_open(const cli_batch *b, cp_fonts **fonts, cp_engine **engine,
                        cp_error **err)
{
	*fonts = cp_fonts_new(b->fonts_dir, b->font_dir, err);
	if (!*fonts)
		return false;
	*engine = cp_engine_new_ex(b->tpl, b->profile, *fonts, b->engine_flags, err);
	if (*engine) {
		if (b->qr_signer)
			cp_engine_set_qr_signer(*engine, qr_sign, (void *)b);
		return true;
	}
	cp_fonts_free(*fonts);
	*fonts = NULL;
	return false;
}

/* An engine made ahead of the worker that will use it (cli_batch_opts.warm):
 * Pango's objects are used by one thread at a time, handed over at the join. */
struct cli_warm {
	cli_batch *b;
	GThread *thread; /* until the worker, or cli_batch_close(), joins it */
	cp_fonts *fonts;
	cp_engine *engine;
	cp_error *err;
};

/* An input this large holds more than a chunk's rows whatever its columns
 * (a row of the 14 required fields is 150 bytes or more; a workbook's is
 * larger still), so every worker will have work. */
#define WARM_ALL_BYTES (32 << 10)

/* A thread born with the operator's signals blocked: the calling thread
 * takes them, so a SIGINT also breaks its wait for more input from a pipe
 * (read() fails with EINTR there). */
static GThread *spawn_blocked(const char *name, GThreadFunc fn, gpointer data, GError **ge)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	GThread *t = g_thread_try_new(name, fn, data, ge);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return t;
}

static gpointer warm_main(gpointer data)
{
	struct cli_warm *w = data;
	engine_open(w->b, &w->fonts, &w->engine, &w->err);
	return NULL;
}

/* Starts making the engines of the workers to come (cli_batch_opts.warm).
 * A thread that cannot be started is no error: its worker makes its own. */
static void warm_start(cli_batch *b, const cli_batch_opts *o)
{
	int n = o->warm > CLI_POOL_MAX_WORKERS ? CLI_POOL_MAX_WORKERS : o->warm;
	struct stat st;
	if (n > 1 && !(o->csv && stat(o->csv, &st) == 0 && S_ISREG(st.st_mode) &&
	               st.st_size >= WARM_ALL_BYTES))
		n = 1;
	if (n < 1)
		return;
	b->warm = g_new0(struct cli_warm, n);
	for (int i = 0; i < n; i++) {
		struct cli_warm *w = &b->warm[i];
		w->b = b;
		GError *ge = NULL;
		w->thread = spawn_blocked("cp-warm", warm_main, w, &ge);
		if (!w->thread) {
			g_error_free(ge);
			break;
		}
		b->nwarm = i + 1;
	}
}

/* The engine made ahead for worker `index`, if any: joins its thread. */
static bool warm_take(cli_batch *b, int index, cp_fonts **fonts, cp_engine **engine,
                      cp_error **err)
{
	if (index >= b->nwarm || !b->warm[index].thread)
		return false;
	struct cli_warm *w = &b->warm[index];
	g_thread_join(w->thread);
	w->thread = NULL;
	*fonts = w->fonts;
	*engine = w->engine;
	*err = w->err;
	w->fonts = NULL;
	w->engine = NULL;
	w->err = NULL;
	return true;
}

/* Joins the warm-up threads no worker took and frees what they made. */
static void warm_end(cli_batch *b)
{
	for (int i = 0; i < b->nwarm; i++) {
		cp_fonts *fonts;
		cp_engine *engine;
		cp_error *e;
		if (warm_take(b, i, &fonts, &engine, &e)) {
			cp_engine_free(engine);
			cp_fonts_free(fonts);
			cp_error_free(e);
		}
	}
	g_free(b->warm);
	b->warm = NULL;
	b->nwarm = 0;
}

bool cli_batch_open(cli_batch *b, const cli_batch_opts *o, cp_error **err)
{
	memset(b, 0, sizeof *b);
	b->profile = cp_profile_load(o->org, err);
	if (!b->profile)
		return false;
	if (o->template_path) {
		b->tpl = cp_template_load(o->template_path, err);
		if (!b->tpl)
			return false;
		b->fonts_dir = cli_data_path("fonts");
		b->font_dir = g_strdup(o->font_dir);
		b->engine_flags = o->engine_flags;
		if (cp_profile_qr_signed(b->profile)) {
			b->qr_signer = cp_signer_from_profile(b->profile, err);
			if (!b->qr_signer)
				return false;
		}
		if (!o->workers_lay_out && !engine_open(b, &b->fonts, &b->engine, err))
			return false;
		if (o->workers_lay_out)
			warm_start(b, o);
	}
	if (!o->csv)
		return true;
	return cli_batch_reset(b, o->csv, o->sheet, err);
}

/* b->problems and the text of its strings. */
static void forget_problems(cli_batch *b)
{
	g_free(b->problems.items);
	memset(&b->problems, 0, sizeof b->problems);
	if (b->problem_text)
		g_string_chunk_free(b->problem_text);
	b->problem_text = NULL;
}

bool cli_batch_reset(cli_batch *b, const char *csv, const char *sheet, cp_error **err)
{
	cp_checker_free(b->checker);
	b->checker = NULL;
	cp_reader_free(b->reader);
	b->reader = NULL;
	forget_problems(b);
	b->records = b->valid = b->refused = b->warnings = 0;
	b->reader = cp_reader_open_ex(csv, sheet, &cli_interrupted, err);
	if (!b->reader)
		return false;
	b->checker = cp_checker_new(b->profile, cp_reader_dir(b->reader), b->reader, err);
	return b->checker != NULL;
}

cp_rejects *cli_batch_rejects_open(cli_batch *b, const char *path,
                                   const char *const *inputs, cp_error **err)
{
	if (!cp_atomic_check_target(path, inputs, 0, err))
		return NULL;
	size_t nh;
	const char *const *hdr = cp_reader_header(b->reader, &nh);
	return cp_rejects_open(path, hdr, nh, err);
}

void cli_problem_add(cp_problems *ps, cp_severity sev, const cp_record *rec, int field,
                     const char *column, const char *value, const char *rule,
                     const char *message)
{
	cp_problems_insert(ps, ps->len, (cp_problem){
		.severity = sev,
		.row = rec ? rec->row : 0,
		.line = rec ? rec->line : 0,
		.field = field,
		.column = g_strdup(column),
		.value = g_strdup(value),
		.rule = rule,
		.article = cp_rule_source_of(rule),
		.message = g_strdup(message),
	});
}

/* s as kept in b->problem_text (NULL stays NULL); s is freed. A batch
 * whose rows lack the same characters has the same message on every such
 * row: 0.7 MB for the warnings of 100,000 rows, 2 % of them with a rare
 * character, when each had its own copy (bench/README.md). Values differ
 * from row to row: copied, without malloc()'s overhead. */
static char *keep_text(cli_batch *b, char *s, bool shared)
{
	if (!s)
		return NULL;
	char *kept = shared ? g_string_chunk_insert_const(b->problem_text, s)
	                    : g_string_chunk_insert(b->problem_text, s);
	g_free(s);
	return kept;
}

/* Moves every problem of src to the end of dst; src is left empty. */
static void problems_move(cp_problems *dst, cp_problems *src)
{
	for (size_t i = 0; i < src->len; i++) {
		if (dst->len == dst->cap) {
			dst->cap = dst->cap ? dst->cap * 2 : 16;
			dst->items = g_renew(cp_problem, dst->items, dst->cap);
		}
		dst->items[dst->len++] = src->items[i];
	}
	src->len = 0;
}

/* Moves every problem of row to the end of b->problems, their strings
 * copied into b->problem_text; row is left empty. */
static void keep_problems(cli_batch *b, cp_problems *row)
{
	if (!b->problem_text)
		b->problem_text = g_string_chunk_new(16384);
	for (size_t i = 0; i < row->len; i++) {
		cp_problem *p = &row->items[i];
		p->column = keep_text(b, p->column, true);
		p->value = keep_text(b, p->value, false);
		p->message = keep_text(b, p->message, true);
	}
	problems_move(&b->problems, row);
}

/* A layout refusal becomes a problem of the row like any rule's, so the
 * operator sees it in the same report before anything is printed. */
static void layout_problem(cli_batch *b, const cp_record *rec, cp_error *e,
                           cp_problems *row)
{
	int field = e->column ? cp_field_lookup(e->column) : -1;
	const char *col = field >= 0 ? cp_reader_column(b->reader, field) : NULL;
	const char *value = field >= 0 && field != CP_FIELD_ID_NUMBER ? rec->value[field] : NULL;
	cli_problem_add(row, CP_SEV_ERROR, rec, field, col ? col : e->column, value,
	                "layout.print", e->message);
}

/* A field of the page set in a face other than its own font (layout.h)
 * becomes a warning of the row naming the characters that forced the face:
 * the operator sees it before printing and may bring a font that has them. */
static void font_warnings(const cli_batch *b, const cp_record *rec, const cp_page *pg,
                          cp_problems *row)
{
	size_t n;
	const cp_page_item *it = cp_page_items(pg, &n);
	for (size_t i = 0; i < n; i++) {
		if (it[i].kind != CP_EL_FIELD || !it[i].forced)
			continue;
		int bind = it[i].bind;
		int field = bind >= 0 && bind < CP_FIELD_COUNT ? bind : -1;
		const char *col = field >= 0 ? cp_reader_column(b->reader, field) : NULL;
		const char *value = field >= 0 && field != CP_FIELD_ID_NUMBER ? rec->value[field]
		                                                               : NULL;
		char *msg;
		if (it[i].faces)
			msg = g_strdup_printf(
				_("no font has every character of %s: its font %s lacks %s; it is "
				  "set in %s except %s, each matched in weight and size; for one "
				  "face, add the organization's own licensed FangSong that has them "
				  "with --font-dir, named first in the template's font list"),
				cp_layout_bind_label(bind), it[i].primary, it[i].forced, it[i].face,
				it[i].faces);
		else
			msg = g_strdup_printf(
				_("%s is set whole in %s, because its font %s lacks %s; for a "
				  "FangSong like the other fields, add the organization's own "
				  "licensed FangSong that has them with --font-dir, named first in "
				  "the template's font list"),
				cp_layout_bind_label(bind), it[i].face, it[i].primary, it[i].forced);
		cli_problem_add(row, CP_SEV_WARNING, rec, field,
		                col ? col : cp_template_bind_key(bind), value,
		                "layout.font_fallback", msg);
		g_free(msg);
	}
}

/* The end of every record's trip, in row order: counts, problems kept for
 * the report, progress. */
static void account(cli_batch *b, cp_problems *row, bool still, cli_progress *prog)
{
	for (size_t i = 0; i < row->len; i++)
		if (row->items[i].severity == CP_SEV_WARNING)
			b->warnings++;
	if (still)
		b->valid++;
	else
		b->refused++;
	keep_problems(b, row);
	cp_reader_progress(b->reader, &prog->fraction);
	cli_progress_step(prog);
}

static bool interrupted(cp_error **err)
{
	if (!cli_interrupted)
		return false;
	cp_set_error(err, CP_E_INTERRUPTED, NULL, 0, 0, NULL, _("interrupted; nothing was written"));
	return true;
}

/* The next record of the batch: 1, 0 at the end, -1 when the run must stop
 * (an interrupt, or a read error in *err). */
static int next_record(cli_batch *b, cp_record *rec, cp_error **err)
{
	if (interrupted(err))
		return -1;
	int r = cp_reader_next(b->reader, rec, err);
	if (r > 0)
		b->records++;
	return r;
}

bool cli_batch_run(cli_batch *b, cli_record_fn fn, void *ud, const char *what,
                   cp_error **err)
{
	cp_record rec;
	memset(&rec, 0, sizeof rec);
	cp_problems row = {0};
	cli_progress prog;
	cli_progress_start(&prog, what, 0);
	bool ok = true;
	for (;;) {
		int r = next_record(b, &rec, err);
		if (r <= 0) {
			ok = r == 0;
			break;
		}
		/* a record not laid out needs its photo's header only */
		bool lay = !b->lay_out || b->lay_out(ud, &rec);
		if (b->lay_out)
			cp_checker_decode_photos(b->checker, lay);
		bool valid = cp_checker_check(b->checker, &rec, &row);
		cp_page *pg = NULL;
		if (valid && b->engine && lay) {
			cp_error *le = NULL;
			pg = cp_engine_layout(b->engine, &rec, &le);
			if (!pg) {
				if (le && le->code != CP_E_REFUSED) {
					cp_propagate_error(err, le);
					ok = false;
					break;
				}
				if (le)
					layout_problem(b, &rec, le, &row);
				cp_error_free(le);
				valid = false;
			} else {
				font_warnings(b, &rec, pg, &row);
			}
		}
		bool still = valid;
		if (fn && !fn(ud, &rec, pg, &row, &still, err)) {
			cp_page_free(pg);
			ok = false;
			break;
		}
		cp_page_free(pg);
		account(b, &row, still, &prog);
	}
	cli_progress_end(&prog);
	cp_problems_clear(&row);
	cp_record_clear(&rec);
	return ok;
}

/* ------------------------------------------------------------------ pool */

/* Records travel in chunks: one queue operation per few dozen records keeps
 * the threads' hand-offs out of the profile, and a chunk is still small
 * enough that both cores stay busy to the end of a short batch. */
#define CHUNK 32 /* unless ops->chunk says otherwise */
/* Chunks handed out and not yet settled, per worker: enough that a worker
 * never waits for the reader, few enough that memory stays flat. */
#define INFLIGHT_PER_WORKER 3

typedef struct chunk {
	size_t seq;
	size_t n;
	cli_item items[CLI_POOL_MAX_CHUNK];
	cp_error *fatal; /* a worker could not go on (I/O, fonts …) */
} chunk;

typedef struct pool pool;

typedef struct worker {
	pool *p;
	int index;
	GThread *thread;
	cp_error *exit_err; /* from ops->done */
} worker;

struct pool {
	cli_batch *b;
	const cli_pool_ops *ops;
	void *ud;
	int max_workers, started;
	worker workers[CLI_POOL_MAX_WORKERS];
	GAsyncQueue *todo, *done;
	chunk stop;              /* the sentinel that ends a worker */
	gint abandon;            /* atomic: stop working, the run is over */
	chunk **pending;         /* finished chunks by seq % cap, awaiting their turn */
	size_t cap, next_seq, next_settle, inflight;
};

int cli_pool_default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > CLI_POOL_MAX_WORKERS ? CLI_POOL_MAX_WORKERS : (int)n;
}

static void item_clear(cli_item *it)
{
	cp_record_clear(&it->rec);
	cp_problems_clear(&it->row);
	cp_error_free(it->refusal);
	g_free(it->digest);
	memset(it, 0, sizeof *it);
}

static void chunk_free(chunk *ch)
{
	if (!ch)
		return;
	for (size_t i = 0; i < ch->n; i++)
		item_clear(&ch->items[i]);
	cp_error_free(ch->fatal);
	g_free(ch);
}

/* Lays out and draws the records of one chunk; the first error that is not a
 * record's own refusal ends the chunk (and the run). */
static void work_chunk(worker *w, cp_engine *engine, chunk *ch)
{
	pool *p = w->p;
	for (size_t i = 0; i < ch->n && !g_atomic_int_get(&p->abandon); i++) {
		cli_item *it = &ch->items[i];
		/* also for a record refused already: its report names every
		 * problem, as when the reading thread decoded */
		if (!cp_checker_decode_photo(p->b->checker, &it->rec, &it->row))
			it->valid = false;
		if (!it->valid)
			continue;
		cp_error *e = NULL;
		cp_page *pg = cp_engine_layout(engine, &it->rec, &e);
		if (!pg) {
			if (e && e->code != CP_E_REFUSED) {
				ch->fatal = e;
				return;
			}
			it->refusal = e;
			continue;
		}
		/* The reader's header, read here, is fixed once the file is open. */
		font_warnings(p->b, &it->rec, pg, &it->row);
		if (it->draw) {
			if (!p->ops->draw(p->ud, w->index, engine, pg, it, &ch->fatal)) {
				cp_page_free(pg);
				return;
			}
			it->part = w->index;
		}
		cp_page_free(pg);
	}
}

static gpointer worker_main(gpointer data)
{
	worker *w = data;
	pool *p = w->p;
	cp_fonts *fonts = NULL;
	cp_engine *engine = NULL;
	cp_error *init_err = NULL;
	/* Made ahead (cli_batch_opts.warm) or here, in parallel with the
	 * reading and with the other workers' (about 9 MB and 25 ms each). */
	if (!warm_take(p->b, w->index, &fonts, &engine, &init_err))
		engine_open(p->b, &fonts, &engine, &init_err);
	for (;;) {
		chunk *ch = g_async_queue_pop(p->todo);
		if (ch == &p->stop)
			break;
		if (init_err)
			ch->fatal = cp_error_copy(init_err);
		else
			work_chunk(w, engine, ch);
		if (!ch->fatal && p->ops->chunk_done)
			p->ops->chunk_done(p->ud, w->index, &ch->fatal);
		g_async_queue_push(p->done, ch);
	}
	/* The engine and its fonts go before the output is finished: finishing
	 * (font subsetting) is the most memory-hungry moment of a batch, and what
	 * drew the pages is not needed for it (Cairo holds its own references). */
	bool had_engine = engine != NULL;
	cp_engine_free(engine);
	cp_fonts_free(fonts);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	if (had_engine && p->ops->done)
		p->ops->done(p->ud, w->index, &w->exit_err);
	cp_error_free(init_err);
	return NULL;
}

/* The admits of a full chunk, in row order, after the look ahead: its
 * records are read and checked, none is drawn yet. */
static bool admit_chunk(pool *p, chunk *ch, cp_error **err)
{
	if (p->ops->ahead && !p->ops->ahead(p->ud, ch->items, ch->n, err))
		return false;
	for (size_t i = 0; i < ch->n; i++)
		if (!p->ops->admit(p->ud, &ch->items[i], err))
			return false;
	return true;
}

static bool submit(pool *p, chunk *ch, cp_error **err)
{
	/* Another worker only when every started one has work already. */
	if (p->started < p->max_workers && p->inflight >= (size_t)p->started) {
		worker *w = &p->workers[p->started];
		w->p = p;
		w->index = p->started;
		char name[16];
		g_snprintf(name, sizeof name, "cp-worker-%d", w->index);
		GError *ge = NULL;
		w->thread = spawn_blocked(name, worker_main, w, &ge);
		if (!w->thread) {
			if (p->started == 0) {
				cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL,
				             _("cannot start a worker thread: %s"), ge->message);
				g_error_free(ge);
				chunk_free(ch);
				return false;
			}
			/* Fewer workers than hoped for is slower, not wrong. */
			g_error_free(ge);
			p->max_workers = p->started;
		} else {
			p->started++;
		}
	}
	p->inflight++;
	g_async_queue_push(p->todo, ch);
	return true;
}

/* Hands each record of a finished chunk back to the caller, in row order. */
static bool settle_chunk(pool *p, chunk *ch, cli_progress *prog, cp_error **err)
{
	if (ch->fatal) {
		cp_propagate_error(err, ch->fatal);
		ch->fatal = NULL;
		return false;
	}
	for (size_t i = 0; i < ch->n; i++) {
		cli_item *it = &ch->items[i];
		bool still = it->valid;
		if (it->refusal) {
			layout_problem(p->b, &it->rec, it->refusal, &it->row);
			still = false;
		}
		if (!p->ops->settle(p->ud, it, &still, err))
			return false;
		account(p->b, &it->row, still, prog);
		item_clear(it);
	}
	return true;
}

/* Waits for one chunk to come back, then settles every chunk whose turn has
 * come. */
static bool wait_one(pool *p, cli_progress *prog, cp_error **err)
{
	chunk *ch = g_async_queue_pop(p->done);
	p->pending[ch->seq % p->cap] = ch;
	for (;;) {
		chunk *next = p->pending[p->next_settle % p->cap];
		if (!next || next->seq != p->next_settle)
			return true;
		p->pending[p->next_settle % p->cap] = NULL;
		p->next_settle++;
		p->inflight--;
		bool ok = settle_chunk(p, next, prog, err);
		chunk_free(next);
		if (!ok)
			return false;
	}
}

/* Stops the workers (abandoning queued work when the run failed), lets the
 * caller use the time they take to finish (ops->drained), joins them and
 * frees what is left. */
static bool pool_end(pool *p, bool ok, cp_error **err)
{
	if (!ok)
		g_atomic_int_set(&p->abandon, 1);
	for (int i = 0; i < p->started; i++)
		g_async_queue_push(p->todo, &p->stop);
	if (ok && p->ops->drained && !p->ops->drained(p->ud, err))
		ok = false;
	for (int i = 0; i < p->started; i++) {
		g_thread_join(p->workers[i].thread);
		cp_error *e = p->workers[i].exit_err;
		if (e && ok) {
			cp_propagate_error(err, e);
			ok = false;
		} else {
			cp_error_free(e);
		}
	}
	chunk *ch;
	while ((ch = g_async_queue_try_pop(p->done)))
		chunk_free(ch);
	while ((ch = g_async_queue_try_pop(p->todo)))
		if (ch != &p->stop)
			chunk_free(ch);
	for (size_t i = 0; i < p->cap; i++)
		chunk_free(p->pending[i]);
	g_free(p->pending);
	g_async_queue_unref(p->todo);
	g_async_queue_unref(p->done);
	return ok;
}

bool cli_batch_run_pool(cli_batch *b, const cli_pool_ops *ops, void *ud, int workers,
                        const char *what, cp_error **err)
{
	pool p = {
		.b = b, .ops = ops, .ud = ud,
		.max_workers = workers < 1 ? 1 : workers > CLI_POOL_MAX_WORKERS
		                                   ? CLI_POOL_MAX_WORKERS : workers,
		.todo = g_async_queue_new(), .done = g_async_queue_new(),
	};
	p.cap = (size_t)p.max_workers * INFLIGHT_PER_WORKER;
	size_t chunk_n = ops->chunk < 1 ? CHUNK
	                 : ops->chunk > CLI_POOL_MAX_CHUNK ? CLI_POOL_MAX_CHUNK : (size_t)ops->chunk;
	p.pending = g_new0(chunk *, p.cap);
	cp_checker_defer_photo_decode(b->checker, b->decode_in_workers);
	cp_record rec;
	memset(&rec, 0, sizeof rec);
	cli_progress prog;
	cli_progress_start(&prog, what, 0);
	chunk *cur = NULL;
	bool ok = true;
	for (;;) {
		int r = next_record(b, &rec, err);
		if (r <= 0) {
			ok = r == 0;
			break;
		}
		if (!cur) {
			cur = g_new0(chunk, 1);
			cur->seq = p.next_seq++;
		}
		cli_item *it = &cur->items[cur->n++];
		it->rec = rec; /* moved: the reader clears rec before reusing it */
		memset(&rec, 0, sizeof rec);
		it->part = -1;
		it->valid = cp_checker_check(b->checker, &it->rec, &it->row);
		if (cur->n == chunk_n) {
			chunk *full = cur;
			cur = NULL;
			if (!admit_chunk(&p, full, err)) {
				chunk_free(full);
				ok = false;
				break;
			}
			if (!submit(&p, full, err)) { /* it freed the chunk */
				ok = false;
				break;
			}
		}
		while (ok && p.inflight >= p.cap)
			ok = wait_one(&p, &prog, err);
		if (!ok)
			break;
	}
	if (ok && cur) {
		chunk *last = cur;
		cur = NULL;
		if (!admit_chunk(&p, last, err)) {
			chunk_free(last);
			ok = false;
		} else {
			ok = submit(&p, last, err);
		}
	}
	while (ok && p.inflight > 0) {
		if (interrupted(err))
			ok = false;
		else
			ok = wait_one(&p, &prog, err);
	}
	chunk_free(cur);
	cp_record_clear(&rec);
	ok = pool_end(&p, ok, err);
	cp_checker_defer_photo_decode(b->checker, false);
	cli_progress_end(&prog);
	return ok;
}

void cli_batch_close(cli_batch *b)
{
	warm_end(b);
	cp_checker_free(b->checker);
	cp_reader_free(b->reader);
	cp_engine_free(b->engine);
	cp_fonts_free(b->fonts);
	cp_template_free(b->tpl);
	cp_profile_free(b->profile);
	cp_signer_free(b->qr_signer);
	g_free(b->fonts_dir);
	g_free(b->font_dir);
	forget_problems(b);
	memset(b, 0, sizeof *b);
}

static cairo_status_t append_bytes(void *closure, const unsigned char *data,
                                   unsigned int length)
{
	g_byte_array_append(closure, data, length);
	return CAIRO_STATUS_SUCCESS;
}

#define CUT_MARGIN_MM 1.0

bool cli_cutouts_each(cli_batch *b, const cp_page *pg, double dpi, cli_cutout_fn fn,
                      void *ud, cp_error **err)
{
	size_t n;
	const cp_page_item *it = cp_page_items(pg, &n);
	for (size_t i = 0; i < n; i++) {
		if (it[i].kind != CP_EL_FIELD || !it[i].text || !*it[i].text ||
		    (it[i].bind != CP_FIELD_NAME && !it[i].forced))
			continue;
		/* The set text's extents, not the whole box: the name fills the
		 * image the report shows. */
		double m = CUT_MARGIN_MM;
		cairo_t *cr = NULL;
		cairo_surface_t *s = cp_raster_new(it[i].text_w + 2 * m, it[i].text_h + 2 * m, dpi,
		                                   &cr, err);
		if (!s)
			return false;
		cairo_translate(cr, m - it[i].text_x, m - it[i].text_y);
		cp_engine_draw_item(b->engine, pg, i, cr);
		cairo_destroy(cr);
		GByteArray *ba = g_byte_array_new();
		cairo_status_t st = cairo_surface_write_to_png_stream(s, append_bytes, ba);
		cairo_surface_destroy(s);
		if (st != CAIRO_STATUS_SUCCESS) {
			g_byte_array_free(ba, TRUE);
			cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL,
			             _("cannot encode a thumbnail: %s"), cairo_status_to_string(st));
			return false;
		}
		/* Where faces mix, each character not in the main face with its own. */
		char *face = !it[i].forced ? NULL
		             : it[i].faces ? g_strdup_printf("%s; %s", it[i].face, it[i].faces)
		                           : g_strdup(it[i].face);
		bool ok = fn(ud, it[i].bind, it[i].text, face, ba->data, ba->len, err);
		g_free(face);
		g_byte_array_free(ba, TRUE);
		if (!ok)
			return false;
	}
	return true;
}

static bool html_cutout(void *ud, int bind, const char *text, const char *face,
                        const unsigned char *png, size_t png_len, cp_error **err)
{
	return cp_html_add_cutout(ud, cp_layout_bind_label(bind), text, face, png, png_len, err);
}

bool cli_cutouts(cli_batch *b, const cp_page *pg, double dpi, cp_html *html,
                 cp_error **err)
{
	return cli_cutouts_each(b, pg, dpi, html_cutout, html, err);
}

bool cli_thumbnail(cli_batch *b, const cp_page *pg, const cp_output_opts *o,
                   unsigned char **png, size_t *png_len, cp_error **err)
{
	cairo_t *cr = NULL;
	cairo_surface_t *s = cp_raster_new(cp_template_page_width_mm(b->tpl),
	                                   cp_template_page_height_mm(b->tpl), o->dpi,
	                                   &cr, err);
	if (!s)
		return false;
	cp_engine_draw(b->engine, pg, cr, o);
	cairo_destroy(cr);
	GByteArray *ba = g_byte_array_new();
	cairo_status_t st = cairo_surface_write_to_png_stream(s, append_bytes, ba);
	cairo_surface_destroy(s);
	if (st != CAIRO_STATUS_SUCCESS) {
		g_byte_array_free(ba, TRUE);
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL,
		             _("cannot encode a thumbnail: %s"), cairo_status_to_string(st));
		return false;
	}
	*png_len = ba->len;
	*png = g_byte_array_free(ba, FALSE);
	return true;
}
