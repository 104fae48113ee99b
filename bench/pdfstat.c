/* SPDX-License-Identifier: MIT */
/*
 * pdfstat — what a PDF's bytes are made of, for bench/run.sh.
 *
 *   pdfstat FILE.pdf
 *
 * Prints one line:
 *
 *   bytes=N pages=N jpeg_bytes=N jpeg_images=N
 *
 * jpeg_bytes is the sum of the stream data of every DCTDecode image, i.e. the
 * photos embedded as they are; the benchmark subtracts it from the file size
 * to see what the rest of a page costs (text, fonts, QR, vector art). A
 * writer that embeds one photo once for many pages (cairo does so for images
 * with the same CAIRO_MIME_TYPE_UNIQUE_ID) is credited for it: only the bytes
 * really in the file count.
 *
 * This is a byte scanner for the PDF that cairo and Typst write (uncompressed
 * object dictionaries), not a PDF parser: pages inside compressed object
 * streams are not counted (pages=0 then), and a stream's end is found by its
 * "endstream" keyword.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *find(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	if ((size_t)(end - p) < n)
		return NULL;
	return memmem(p, (size_t)(end - p), needle, n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pdfstat FILE.pdf\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "pdfstat: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	if (st.st_size < 8) {
		fprintf(stderr, "pdfstat: %s: not a PDF\n", argv[1]);
		return 2;
	}
	const char *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED) {
		fprintf(stderr, "pdfstat: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	close(fd);
	const char *end = base + st.st_size;
	if (memcmp(base, "%PDF-", 5) != 0) {
		fprintf(stderr, "pdfstat: %s: not a PDF\n", argv[1]);
		return 2;
	}

	long pages = 0, images = 0;
	unsigned long long jpeg = 0;
	const char *p = base;
	/* The next match of each keyword is remembered, so that the file is read
	 * once even when all the page dictionaries come last. */
	const char *page = find(p, end, "/Type /Page");
	const char *stream = NULL;
	for (;;) {
		if (page && page < p)
			page = find(p, end, "/Type /Page");
		stream = find(p, end, "stream");
		if (!page && !stream)
			break;
		if (page && (!stream || page < stream)) {
			const char *after = page + strlen("/Type /Page");
			if (after < end && *after != 's')
				pages++;
			p = after;
			continue;
		}
		/* "endstream" also contains "stream": step over it. */
		if (stream >= base + 3 && memcmp(stream - 3, "end", 3) == 0) {
			p = stream + 6;
			continue;
		}
		const char *data = stream + 6;
		if (data < end && *data == '\r')
			data++;
		if (data < end && *data == '\n')
			data++;
		/* The dictionary of this stream: from the last "obj" before it. */
		const char *dict = stream;
		while (dict > base + 3 && memcmp(dict - 3, "obj", 3) != 0)
			dict--;
		const char *stop = find(data, end, "endstream");
		if (!stop)
			break;
		const char *last = stop;
		if (last > data && last[-1] == '\n')
			last--;
		if (last > data && last[-1] == '\r')
			last--;
		if (find(dict, stream, "/DCTDecode")) {
			jpeg += (unsigned long long)(last - data);
			images++;
		}
		/* Page dictionaries never sit inside stream data. */
		p = stop + strlen("endstream");
	}
	printf("bytes=%lld pages=%ld jpeg_bytes=%llu jpeg_images=%ld\n", (long long)st.st_size,
	       pages, jpeg, images);
	return 0;
}
