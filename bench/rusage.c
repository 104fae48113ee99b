/* SPDX-License-Identifier: MIT */
/*
 * rusage — runs a command and reports what it cost, for bench/run.sh.
 *
 *   rusage OUT COMMAND [ARG …]
 *
 * Runs COMMAND (searched in PATH) with the same standard streams, waits for
 * it, and appends one line to OUT:
 *
 *   wall=SECONDS user=SECONDS sys=SECONDS maxrss_kb=KB status=N minflt=N majflt=N
 *
 * The figures come from wait4(2), so they cover the command and every child
 * it waited for; maxrss_kb is the largest resident set of any one of them
 * (Linux reports ru_maxrss in kilobytes). The wall clock is CLOCK_MONOTONIC
 * from just before fork to just after the wait. status is the exit status, or
 * 128 + signal number; minflt and majflt count the page faults served
 * without and with reading from disk. rusage exits with the same status, so a failing
 * command still fails the benchmark. Used instead of GNU time(1) so that the
 * benchmark needs no package beyond the build's own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: rusage OUT COMMAND [ARG …]\n");
		return 2;
	}
	/* Opened before the run so that a bad path fails before any work. */
	FILE *out = fopen(argv[1], "a");
	if (!out) {
		fprintf(stderr, "rusage: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rusage: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		fclose(out);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rusage: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	int st;
	struct rusage ru;
	pid_t got;
	do
		got = wait4(pid, &st, 0, &ru);
	while (got < 0 && errno == EINTR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (got < 0) {
		fprintf(stderr, "rusage: wait4: %s\n", strerror(errno));
		return 2;
	}
	int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(out, "wall=%.6f user=%.6f sys=%.6f maxrss_kb=%ld status=%d minflt=%ld majflt=%ld\n",
	        wall, seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss, status,
	        ru.ru_minflt, ru.ru_majflt);
	if (fclose(out) != 0) {
		fprintf(stderr, "rusage: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	return status;
}
