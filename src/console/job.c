/* SPDX-License-Identifier: MIT */
/* The console's print jobs (job.h). */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "console/job.h"
#include "error.h"
#include "i18n.h"
#include "output/report.h"

/* The log a job keeps of its messages: enough for any batch's refusals. */
#define LOG_MAX (1 << 20)

typedef struct job {
	int id;
	bool done;
	int status;
	GString *log;
	char **argv;
	char *zip_dir, *zip_path;
	bool zipped;
} job;

struct console_jobs {
	GMutex lock;
	GCond changed;
	GPtrArray *all; /* job*, by id - 1 */
	GThread *worker;
	bool running;
};

console_jobs *console_jobs_new(void)
{
	console_jobs *js = g_new0(console_jobs, 1);
	g_mutex_init(&js->lock);
	g_cond_init(&js->changed);
	js->all = g_ptr_array_new();
	return js;
}

static void job_free(job *j)
{
	g_string_free(j->log, TRUE);
	g_strfreev(j->argv);
	g_free(j->zip_dir);
	g_free(j->zip_path);
	g_free(j);
}

void console_jobs_free(console_jobs *js)
{
	if (!js)
		return;
	if (js->worker) {
		g_mutex_lock(&js->lock);
		bool running = js->running;
		g_mutex_unlock(&js->lock);
		if (running)
			cli_interrupted = 1;
		g_thread_join(js->worker);
	}
	for (guint i = 0; i < js->all->len; i++)
		job_free(js->all->pdata[i]);
	g_ptr_array_free(js->all, TRUE);
	g_cond_clear(&js->changed);
	g_mutex_clear(&js->lock);
	g_free(js);
}

typedef struct drain {
	int fd;
	console_jobs *js;
	job *j;
} drain;

/* Copies what the job writes into its log, until the last writer closes. */
static gpointer drain_run(gpointer ud)
{
	drain *d = ud;
	char buf[4096];
	for (;;) {
		ssize_t n = read(d->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g_mutex_lock(&d->js->lock);
		if (d->j->log->len + (size_t)n <= LOG_MAX)
			g_string_append_len(d->j->log, buf, n);
		g_mutex_unlock(&d->js->lock);
	}
	close(d->fd);
	return NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Zips the regular files of dir (by name) into path; NULL, or why not. */
static char *zip_folder(const char *dir, const char *path)
{
	GError *ge = NULL;
	GDir *d = g_dir_open(dir, 0, &ge);
	if (!d) {
		char *m = g_strdup(ge->message);
		g_error_free(ge);
		return m;
	}
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *n;
	while ((n = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(n));
	g_dir_close(d);
	g_ptr_array_sort(names, by_name);
	int ze = 0;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_EXCL, &ze);
	char *why = NULL;
	if (!z) {
		zip_error_t e;
		zip_error_init_with_code(&e, ze);
		why = g_strdup_printf("%s: %s", path, zip_error_strerror(&e));
		zip_error_fini(&e);
		g_ptr_array_free(names, TRUE);
		return why;
	}
	for (guint i = 0; i < names->len && !why; i++) {
		char *file = g_build_filename(dir, names->pdata[i], NULL);
		if (g_file_test(file, G_FILE_TEST_IS_REGULAR) &&
		    !g_file_test(file, G_FILE_TEST_IS_SYMLINK)) {
			zip_source_t *src = zip_source_file(z, file, 0, -1);
			if (!src || zip_file_add(z, names->pdata[i], src, ZIP_FL_ENC_UTF_8) < 0) {
				why = g_strdup_printf("%s: %s", file, zip_strerror(z));
				zip_source_free(src);
			}
		}
		g_free(file);
	}
	g_ptr_array_free(names, TRUE);
	if (why) {
		zip_discard(z);
		g_unlink(path);
		return why;
	}
	if (zip_close(z) != 0) {
		why = g_strdup_printf("%s: %s", path, zip_strerror(z));
		zip_discard(z);
		g_unlink(path);
	}
	return why;
}

/* Runs the job with standard output and error going to its log: the
 * command's own messages, word for word. The console writes nothing else
 * to them meanwhile (its one line went out at start). */
static gpointer job_run(gpointer ud)
{
	console_jobs *js = ud;
	g_mutex_lock(&js->lock);
	job *j = js->all->pdata[js->all->len - 1];
	g_mutex_unlock(&js->lock);

	int p[2] = {-1, -1};
	int saved_out = -1, saved_err = -1;
	GThread *drainer = NULL;
	drain d = {.js = js, .j = j};
	fflush(stdout);
	fflush(stderr);
	if (pipe(p) == 0) {
		saved_out = dup(STDOUT_FILENO);
		saved_err = dup(STDERR_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		d.fd = p[0];
		drainer = g_thread_new("job-log", drain_run, &d);
	}
	int argc = (int)g_strv_length(j->argv);
	/* cli_render() may reorder argv (getopt): give it a copy of the array. */
	char **args = g_memdup2(j->argv, sizeof(char *) * (size_t)(argc + 1));
	int status = cli_render(argc, args);
	g_free(args);
	fflush(stdout);
	fflush(stderr);
	if (drainer) {
		dup2(saved_out, STDOUT_FILENO);
		dup2(saved_err, STDERR_FILENO);
		close(saved_out);
		close(saved_err);
		g_thread_join(drainer);
	}
	char *why = NULL;
	if (status == 0 && j->zip_dir)
		why = zip_folder(j->zip_dir, j->zip_path);
	g_mutex_lock(&js->lock);
	if (why) {
		g_string_append_printf(j->log, "certpress: %s\n", why);
		status = 2;
	}
	g_free(why);
	j->zipped = status == 0 && j->zip_dir;
	j->status = status;
	j->done = true;
	js->running = false;
	g_cond_broadcast(&js->changed);
	g_mutex_unlock(&js->lock);
	return NULL;
}

int console_jobs_start(console_jobs *js, char **argv, const char *zip_dir,
                       const char *zip_path, cp_error **err)
{
	g_mutex_lock(&js->lock);
	if (js->running) {
		g_mutex_unlock(&js->lock);
		g_strfreev(argv);
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("a print job is still running; wait for it to end"));
		return 0;
	}
	GThread *before = js->worker;
	js->worker = NULL;
	g_mutex_unlock(&js->lock);
	if (before)
		g_thread_join(before);

	g_mutex_lock(&js->lock);
	job *j = g_new0(job, 1);
	j->id = (int)js->all->len + 1;
	j->log = g_string_new(NULL);
	j->argv = argv;
	j->zip_dir = g_strdup(zip_dir);
	j->zip_path = g_strdup(zip_path);
	g_ptr_array_add(js->all, j);
	js->running = true;
	cli_interrupted = 0;
	js->worker = g_thread_new("print-job", job_run, js);
	int id = j->id;
	g_mutex_unlock(&js->lock);
	return id;
}

char *console_jobs_json(console_jobs *js, int n, bool wait, int timeout_s)
{
	g_mutex_lock(&js->lock);
	if (n < 1 || (guint)n > js->all->len) {
		g_mutex_unlock(&js->lock);
		return NULL;
	}
	job *j = js->all->pdata[n - 1];
	gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_TIME_SPAN_SECOND;
	while (wait && !j->done)
		if (!g_cond_wait_until(&js->changed, &js->lock, end))
			break;
	GString *g = g_string_new(NULL);
	g_string_append_printf(g, "{\"id\":%d,\"state\":\"%s\",\"status\":", j->id,
	                       j->done ? "done" : "running");
	if (j->done)
		g_string_append_printf(g, "%d", j->status);
	else
		g_string_append(g, "null");
	g_string_append(g, ",\"log\":");
	cp_report_json_str(g, j->log->str);
	g_string_append_printf(g, ",\"zip\":%s}", j->zipped ? "true" : "false");
	g_mutex_unlock(&js->lock);
	return g_string_free(g, FALSE);
}

char *console_jobs_zip(console_jobs *js, int n)
{
	g_mutex_lock(&js->lock);
	char *path = NULL;
	if (n >= 1 && (guint)n <= js->all->len) {
		job *j = js->all->pdata[n - 1];
		if (j->zipped)
			path = g_strdup(j->zip_path);
	}
	g_mutex_unlock(&js->lock);
	return path;
}
