/* SPDX-License-Identifier: Apache-2.0 */
/* fs_store.c: the filesystem artifact store. Paths are validated once (artifacts_check_path) and then
 * resolved component by component from the root's directory fd with O_NOFOLLOW (openat2 RESOLVE_BENEATH
 * for the final open where the kernel has it), so neither "..", nor a symlink, can lead outside the root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/openat2.h>
#endif

#include "mltrackd/artifacts.h"
#include "mltrackd/util.h"

struct artifact_store {
	int root_fd;
};

static enum mt_error bad_path(struct mt_err *err, const char *path)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid path: '%.200s'", path);
}

static int hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static enum mt_error check_one(const char *path, const char *shown, struct mt_err *err);

enum mt_error artifacts_check_path(const char *path, bool allow_empty, struct mt_err *err)
{
	if (path == NULL || path[0] == '\0')
		return allow_empty ? MT_OK : bad_path(err, "");
	if (strlen(path) > 4096)
		return bad_path(err, path);
	if (check_one(path, path, err) != MT_OK)
		return err->code;
	/* The server decoded the URL once; decode what is left once more and check that too, so a
	 * double-encoded "%2e%2e%2f" cannot smuggle a traversal (MLflow's validate_path_is_safe does the same). */
	if (strchr(path, '%')) {
		char dec[4097];
		size_t j = 0;
		for (size_t i = 0; path[i]; i++) {
			if (path[i] == '%' && hexv(path[i + 1]) >= 0 && hexv(path[i + 2]) >= 0) {
				dec[j++] = (char)(hexv(path[i + 1]) * 16 + hexv(path[i + 2]));
				i += 2;
			} else {
				dec[j++] = path[i];
			}
		}
		dec[j] = '\0';
		if (j != strlen(dec) || check_one(dec, path, err) != MT_OK)
			return bad_path(err, path); /* includes an encoded NUL */
	}
	return MT_OK;
}

/* Well-formed UTF-8 only (no overlong forms such as C0 AE for '.', no surrogates). */
static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s;
		size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
		if (n == 9 || (n == 1 && c < 0xC2) || (n == 3 && c > 0xF4))
			return false;
		unsigned cp = n == 0 ? c : c & (0x3F >> n);
		for (size_t k = 1; k <= n; k++) {
			if ((s[k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[k] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		s += n + 1;
	}
	return true;
}

static enum mt_error check_one(const char *path, const char *shown, struct mt_err *err)
{
	size_t n = strlen(path);
	if (!utf8_valid((const unsigned char *)path))
		return bad_path(err, shown);
	if (path[0] == '/' || strchr(path, '\\') || strchr(path, '#'))
		return bad_path(err, shown);
	/* Windows drive letters ("C:") are absolute paths to MLflow's check too. */
	if (n >= 2 && path[1] == ':')
		return bad_path(err, shown);
	const char *seg = path;
	for (;;) {
		const char *end = strchrnul(seg, '/');
		size_t len = (size_t)(end - seg);
		bool last = *end == '\0';
		if (len == 0 && !(last && seg != path))
			return bad_path(err, shown); /* "//" or leading "/" (a trailing "/" is tolerated) */
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.') || len > 255)
			return bad_path(err, shown);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)seg[i] < 0x20)
				return bad_path(err, shown);
		if (last)
			break;
		seg = end + 1;
	}
	return MT_OK;
}

enum mt_error artifacts_open(const char *root, struct artifact_store **out, struct mt_err *err)
{
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		return mt_fail(err, MT_INTERNAL_ERROR, "cannot create the artifact root: %s", strerror(errno));
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return mt_fail(err, MT_INTERNAL_ERROR, "cannot open the artifact root: %s", strerror(errno));
	struct artifact_store *st = xcalloc(1, sizeof *st);
	st->root_fd = fd;
	*out = st;
	return MT_OK;
}

void artifacts_close(struct artifact_store *st)
{
	if (!st)
		return;
	close(st->root_fd);
	free(st);
}

/* Opens the directory holding the last component of path (creating directories when create), walking
 * from the root with O_NOFOLLOW at every step; *base receives the last component (pointer into a copy).
 * Returns a directory fd or -1 (errno set: ENOENT, ENOTDIR, ELOOP when a symlink is met). */
static int open_parent(struct artifact_store *st, const char *path, bool create, char *copy, size_t cap, char **base)
{
	snprintf(copy, cap, "%s", path);
	size_t n = strlen(copy);
	while (n > 0 && copy[n - 1] == '/')
		copy[--n] = '\0';
	int dir = dup(st->root_fd);
	if (dir < 0)
		return -1;
	char *seg = copy;
	for (;;) {
		char *slash = strchr(seg, '/');
		if (!slash) {
			*base = seg;
			return dir;
		}
		*slash = '\0';
		if (create && mkdirat(dir, seg, 0755) != 0 && errno != EEXIST) {
			int e = errno;
			close(dir);
			errno = e;
			return -1;
		}
		int next = openat(dir, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(dir);
		if (next < 0) {
			errno = e;
			return -1;
		}
		dir = next;
		seg = slash + 1;
	}
}

/* The final open, beneath the root: openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS when available,
 * else the O_NOFOLLOW walk. */
static int open_beneath(struct artifact_store *st, const char *path, int flags)
{
#if defined(__linux__) && defined(SYS_openat2)
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	int fd = (int)syscall(SYS_openat2, st->root_fd, path[0] ? path : ".", &how, sizeof how);
	if (fd >= 0 || errno != ENOSYS)
		return fd;
#endif
	if (path[0] == '\0')
		return openat(st->root_fd, ".", flags | O_CLOEXEC);
	char copy[4200], *base;
	int dir = open_parent(st, path, false, copy, sizeof copy, &base);
	if (dir < 0)
		return -1;
	int f = openat(dir, base, flags | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	close(dir);
	errno = e;
	return f;
}

static enum mt_error io_fail(struct mt_err *err, const char *what, const char *path)
{
	if (errno == ENOENT || errno == ENOTDIR)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Artifact '%.200s' does not exist", path);
	if (errno == ELOOP || errno == EXDEV || errno == ENAMETOOLONG)
		return bad_path(err, path); /* a symlink on the way, a path leaving the root, a name too long */
	mt_log(MT_LOG_ERROR, "artifact %s failed for '%.200s': %s", what, path, strerror(errno));
	return mt_fail(err, MT_INTERNAL_ERROR, "Cannot %s artifact '%.200s'", what, path);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct artifact_entry *)a)->name, ((const struct artifact_entry *)b)->name);
}

enum mt_error artifacts_list(struct artifact_store *st, struct arena *a, const char *path, struct artifact_entry **out,
                             size_t *n, bool *exists, struct mt_err *err)
{
	*out = NULL;
	*n = 0;
	*exists = false;
	if (artifacts_check_path(path, true, err) != MT_OK)
		return err->code;
	int fd = open_beneath(st, path ? path : "", O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return MT_OK; /* a file or a missing path lists as nothing, as MLflow answers {} */
		return io_fail(err, "list", path);
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return io_fail(err, "list", path);
	}
	*exists = true;
	size_t cap = 16, cnt = 0;
	struct artifact_entry *v = arena_alloc(a, cap * sizeof *v);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		if (strncmp(e->d_name, ".mltrackd-upload-", 17) == 0)
			continue; /* an upload in progress is not an artifact yet */
		struct stat sb;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(sb.st_mode))
			continue;
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
		v[cnt].name = arena_strdup(a, e->d_name);
		v[cnt].is_dir = S_ISDIR(sb.st_mode);
		v[cnt].size = S_ISDIR(sb.st_mode) ? 0 : (int64_t)sb.st_size;
		cnt++;
	}
	closedir(d);
	qsort(v, cnt, sizeof *v, cmp_entry);
	*out = v;
	*n = cnt;
	return MT_OK;
}

enum mt_error artifacts_open_file(struct artifact_store *st, const char *path, int *fd, uint64_t *size,
                                  struct mt_err *err)
{
	if (artifacts_check_path(path, false, err) != MT_OK)
		return err->code;
	int f = open_beneath(st, path, O_RDONLY);
	if (f < 0)
		return io_fail(err, "read", path);
	struct stat sb;
	if (fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(f);
		if (S_ISDIR(sb.st_mode))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Artifact path refers to a directory, not a file: '%.200s'",
			               path);
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Artifact '%.200s' does not exist", path);
	}
	*fd = f;
	*size = (uint64_t)sb.st_size;
	return MT_OK;
}

/* Removes dir/name recursively, never following symlinks (they are unlinked, not entered). */
static int remove_tree(int dir, const char *name)
{
	struct stat sb;
	if (fstatat(dir, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(dir, name, 0);
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && remove_tree(dirfd(d), e->d_name) != 0)
			rc = -1;
	closedir(d);
	return rc == 0 ? unlinkat(dir, name, AT_REMOVEDIR) : -1;
}

enum mt_error artifacts_delete(struct artifact_store *st, const char *path, struct mt_err *err)
{
	if (artifacts_check_path(path, false, err) != MT_OK)
		return err->code;
	char copy[4200], *base;
	int dir = open_parent(st, path, false, copy, sizeof copy, &base);
	if (dir < 0)
		return io_fail(err, "delete", path);
	int rc = remove_tree(dir, base);
	int e = errno;
	close(dir);
	errno = e;
	return rc == 0 ? MT_OK : io_fail(err, "delete", path);
}

struct artifact_upload {
	int dir, fd;
	char tmp[64];
	char *final;
	uint64_t bytes;
	bool committed;
};

static void upload_cleanup(void *p)
{
	struct artifact_upload *up = p;
	if (up->fd >= 0)
		close(up->fd);
	if (!up->committed && up->tmp[0])
		unlinkat(up->dir, up->tmp, 0);
	if (up->dir >= 0)
		close(up->dir);
}

enum mt_error artifacts_upload_begin(struct artifact_store *st, struct arena *a, const char *path,
                                     struct artifact_upload **out, struct mt_err *err)
{
	if (artifacts_check_path(path, false, err) != MT_OK)
		return err->code;
	size_t n = strlen(path);
	if (path[n - 1] == '/')
		return bad_path(err, path);
	struct artifact_upload *up = arena_calloc(a, sizeof *up);
	up->dir = up->fd = -1;
	arena_on_free(a, upload_cleanup, up);
	char *copy = arena_alloc(a, n + 1), *base;
	up->dir = open_parent(st, path, true, copy, n + 1, &base);
	if (up->dir < 0)
		return io_fail(err, "write", path);
	up->final = base;
	char hex[17];
	mt_random_hex(hex, 8);
	snprintf(up->tmp, sizeof up->tmp, ".mltrackd-upload-%s", hex);
	up->fd = openat(up->dir, up->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (up->fd < 0) {
		up->tmp[0] = '\0';
		return io_fail(err, "write", path);
	}
	*out = up;
	return MT_OK;
}

enum mt_error artifacts_upload_write(struct artifact_upload *up, const void *data, size_t n, struct mt_err *err)
{
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(up->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return mt_fail(err, errno == ENOSPC ? MT_INTERNAL_ERROR : MT_INTERNAL_ERROR, "Cannot write the artifact: %s",
			               errno == ENOSPC ? "the disk is full" : "I/O error");
		}
		p += w;
		n -= (size_t)w;
		up->bytes += (uint64_t)w;
	}
	return MT_OK;
}

enum mt_error artifacts_upload_commit(struct artifact_upload *up, struct mt_err *err)
{
	if (fsync(up->fd) != 0 || close(up->fd) != 0) {
		up->fd = -1;
		return mt_fail(err, MT_INTERNAL_ERROR, "Cannot write the artifact: I/O error");
	}
	up->fd = -1;
	/* A directory of the same name is not replaced. */
	struct stat sb;
	if (fstatat(up->dir, up->final, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Artifact path refers to a directory: '%.200s'", up->final);
	if (renameat(up->dir, up->tmp, up->dir, up->final) != 0)
		return mt_fail(err, MT_INTERNAL_ERROR, "Cannot store the artifact: %s", strerror(errno));
	up->committed = true;
	fsync(up->dir);
	return MT_OK;
}

uint64_t artifacts_upload_bytes(const struct artifact_upload *up) { return up->bytes; }

/* MLflow's _guess_mime_type: names whose extension (or, without one, whose whole name: MLmodel) is in its
 * text list are text/plain (matched case-sensitively, as there); otherwise Python's mimetypes table. */
const char *artifacts_mime_type(const char *name)
{
	static const char *const text[] = {"txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop",
	                                   "hocon", "toml", "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv",
	                                   "md", "rst", "ipynb", "MLmodel", "MLproject"};
	static const char *const map[][2] = {
		{"json", "application/json"}, {"csv", "text/csv"}, {"html", "text/html"}, {"htm", "text/html"},
		{"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
		{"svg", "image/svg+xml"}, {"webp", "image/webp"}, {"bmp", "image/bmp"}, {"tif", "image/tiff"},
		{"tiff", "image/tiff"}, {"ico", "image/vnd.microsoft.icon"}, {"pdf", "application/pdf"},
		{"md", "text/markdown"}, {"py", "text/x-python"}, {"txt", "text/plain"}, {"js", "text/javascript"},
		{"xml", "application/xml"}, {"tsv", "text/tab-separated-values"}, {"css", "text/css"},
		{"zip", "application/zip"}, {"mp4", "video/mp4"}, {"wav", "audio/x-wav"}, {"mp3", "audio/mpeg"},
		{"tar", "application/x-tar"}, {"bin", "application/octet-stream"}};
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	/* os.path.splitext: leading dots are part of the name, so ".bashrc" has no extension */
	const char *b = base;
	while (*b == '.')
		b++;
	const char *dot = strrchr(b, '.');
	const char *ext = dot ? dot + 1 : base;
	for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
		if (strcmp(ext, text[i]) == 0)
			return "text/plain";
	if (dot)
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
			if (strcasecmp(ext, map[i][0]) == 0)
				return map[i][1];
	return "application/octet-stream";
}
