/* SPDX-License-Identifier: Apache-2.0 */
/* backup.c: `mltrackd backup DEST` and `mltrackd restore SRC [--force]`. The database is copied first, as one
 * snapshot, then the artifact tree: artifact files are only ever renamed into place complete, so every artifact
 * the snapshot's runs had logged is in the tree by then. Never follows a symlink; never copies a half-written
 * upload; restore checks everything before it changes anything. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mltrackd/backup.h"
#include "mltrackd/store_backup.h"
#include "mltrackd/util.h"

#define BACKUP_DB "mltrackd.db"
#define BACKUP_ARTIFACTS "artifacts"
#define UPLOAD_TMP_PREFIX ".mltrackd-upload-"

struct copy_stats {
	int64_t files, bytes, skipped, existing;
	bool keep_existing; /* import: a file already there with the same size is left alone (and counted) */
	dev_t skip_dev[5];
	ino_t skip_ino[5]; /* the live database files, when they sit inside the artifact root */
	int n_skip;
};

static bool is_dir_empty_or_missing(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT;
	struct dirent *e;
	bool empty = true;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

static int copy_fd(int in, int out, int64_t *bytes)
{
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			off += w;
		}
		*bytes += n;
	}
}

/* Copies the tree under src (a directory fd) into dst (a directory fd): directories and regular files only. */
static int copy_tree(int src, int dst, const char *where, struct copy_stats *cs)
{
	int dupfd = dup(src);
	DIR *d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	if (!d) {
		if (dupfd >= 0)
			close(dupfd);
		fprintf(stderr, "mltrackd: cannot read %s: %s\n", where, strerror(errno));
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		const char *name = e->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || !strncmp(name, UPLOAD_TMP_PREFIX, strlen(UPLOAD_TMP_PREFIX)))
			continue;
		struct stat st;
		if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT) /* removed meanwhile: not part of the snapshot's world anyway */
				cs->skipped++;
			continue;
		}
		bool live_db = false;
		for (int i = 0; i < cs->n_skip; i++)
			live_db |= st.st_dev == cs->skip_dev[i] && st.st_ino == cs->skip_ino[i];
		if (live_db)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, name, 0755) != 0 && errno != EEXIST) {
				fprintf(stderr, "mltrackd: cannot create %s/%s: %s\n", where, name, strerror(errno));
				rc = -1;
				break;
			}
			int s2 = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0) {
				cs->skipped += s2 < 0;
				rc = d2 < 0 ? -1 : 0;
			} else {
				char sub[4096];
				snprintf(sub, sizeof sub, "%s/%s", where, name);
				rc = copy_tree(s2, d2, sub, cs);
			}
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		} else if (S_ISREG(st.st_mode)) {
			int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (in < 0) {
				cs->skipped += errno != ENOENT;
				continue;
			}
			/* import: a file of the same size already there is left alone; anything else is written under an
			 * upload-temporary name and renamed into place, so an interrupted import never leaves a short file
			 * that the next run would take for a complete one */
			struct stat have;
			if (cs->keep_existing && fstatat(dst, name, &have, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(have.st_mode) &&
			    have.st_size == st.st_size) {
				cs->existing++;
				close(in);
				continue;
			}
			const char *tmp = cs->keep_existing ? UPLOAD_TMP_PREFIX "import" : name;
			int out = openat(dst, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (out < 0 || copy_fd(in, out, &cs->bytes) != 0 || fsync(out) != 0 ||
			    (cs->keep_existing && renameat(dst, tmp, dst, name) != 0)) {
				fprintf(stderr, "mltrackd: cannot copy %s/%s: %s\n", where, name, strerror(errno));
				rc = -1;
			} else {
				cs->files++;
			}
			close(in);
			if (out >= 0)
				close(out);
		} else {
			cs->skipped++; /* symlinks, sockets, devices: never part of an artifact store */
		}
	}
	closedir(d);
	return rc;
}

static int copy_dir(const char *from, const char *to, struct copy_stats *cs)
{
	int s = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s < 0)
		return errno == ENOENT ? 0 : -1;
	if (mt_mkdirs(to, false) != 0) {
		close(s);
		return -1;
	}
	int d = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = d < 0 ? -1 : copy_tree(s, d, from, cs);
	if (d >= 0)
		close(d);
	close(s);
	return rc;
}

static void skip_live_db(struct copy_stats *cs, const char *db_path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal", ".lock"};
	for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
		char p[4096];
		struct stat st;
		snprintf(p, sizeof p, "%s%s", db_path, suffix[i]);
		if (stat(p, &st) == 0) {
			cs->skip_dev[cs->n_skip] = st.st_dev;
			cs->skip_ino[cs->n_skip] = st.st_ino;
			cs->n_skip++;
		}
	}
}

int mt_copy_tree(const char *from, const char *to, bool keep_existing, int64_t *files, int64_t *bytes,
                 int64_t *existing, int64_t *skipped)
{
	struct copy_stats cs = {0};
	cs.keep_existing = keep_existing;
	int rc = copy_dir(from, to, &cs);
	*files = cs.files;
	*bytes = cs.bytes;
	*existing = cs.existing;
	*skipped = cs.skipped;
	return rc;
}

int mt_backup_main(const struct mt_config *cfg, const char *dest)
{
	char db[4096], arts[4096], info[4096];
	struct stat st;
	if (stat(cfg->db_path, &st) != 0) {
		fprintf(stderr, "mltrackd backup: no database at %s\n", cfg->db_path);
		return 1;
	}
	if (!is_dir_empty_or_missing(dest)) {
		fprintf(stderr, "mltrackd backup: %s exists and is not empty; give a new directory\n", dest);
		return 2;
	}
	if (mt_mkdirs(dest, false) != 0) {
		fprintf(stderr, "mltrackd backup: cannot create %s: %s\n", dest, strerror(errno));
		return 1;
	}
	snprintf(db, sizeof db, "%s/" BACKUP_DB, dest);
	snprintf(arts, sizeof arts, "%s/" BACKUP_ARTIFACTS, dest);
	snprintf(info, sizeof info, "%s/BACKUP.txt", dest);
	struct mt_err err;
	mt_err_init(&err);
	int version = 0;
	int64_t pages = 0, t0 = mt_now_ms();
	if (store_backup_copy(cfg->db_path, db, &version, &pages, &err) != MT_OK) {
		fprintf(stderr, "mltrackd backup: %s\n", err.msg);
		return 1;
	}
	struct copy_stats cs = {0};
	skip_live_db(&cs, cfg->db_path);
	if (copy_dir(cfg->artifacts_destination, arts, &cs) != 0) {
		fprintf(stderr, "mltrackd backup: copying the artifacts failed\n");
		return 1;
	}
	FILE *f = fopen(info, "w");
	if (f) {
		fprintf(f, "mltrackd backup\nsnapshot_ms=%lld\nschema_version=%d\ndatabase_pages=%lld\nartifact_files=%lld\n"
		           "artifact_bytes=%lld\nskipped=%lld\nsource_database=%s\nsource_artifacts=%s\n",
		        (long long)t0, version, (long long)pages, (long long)cs.files, (long long)cs.bytes,
		        (long long)cs.skipped, cfg->db_path, cfg->artifacts_destination);
		fclose(f);
	}
	printf("backup of %s (schema %d, %lld pages) and %lld artifact files (%lld bytes) written to %s in %lld ms%s\n",
	       cfg->db_path, version, (long long)pages, (long long)cs.files, (long long)cs.bytes, dest,
	       (long long)(mt_now_ms() - t0), cs.skipped ? " (some entries skipped: not regular files)" : "");
	return 0;
}

int mt_restore_main(const struct mt_config *cfg, const char *src, bool force)
{
	char db[4096], arts[4096], tmp[4200];
	snprintf(db, sizeof db, "%s/" BACKUP_DB, src);
	snprintf(arts, sizeof arts, "%s/" BACKUP_ARTIFACTS, src);
	struct mt_err err;
	mt_err_init(&err);
	/* every check first: nothing changes unless all pass */
	if (store_check_file(db, &err) != MT_OK) {
		fprintf(stderr, "mltrackd restore: %s (%s)\n", err.msg, db);
		return 1;
	}
	/* never under a running server: it would keep its open database and lose the restored one */
	mt_mkdirs(cfg->db_path, true);
	char why[4400];
	if (mt_lock_database(cfg->db_path, why, sizeof why) < 0) {
		fprintf(stderr, "mltrackd restore: %s\n", why);
		return 1;
	}
	struct stat st;
	bool db_exists = stat(cfg->db_path, &st) == 0;
	if (db_exists && !force) {
		fprintf(stderr, "mltrackd restore: a database exists at %s; stop the server and add --force to replace it\n",
		        cfg->db_path);
		return 2;
	}
	if (!force && !is_dir_empty_or_missing(cfg->artifacts_destination)) {
		fprintf(stderr, "mltrackd restore: %s is not empty; add --force to copy the backup's artifacts into it\n",
		        cfg->artifacts_destination);
		return 2;
	}
	static const char *const suffix[] = {"-wal", "-shm", "-journal"};
	for (int i = 0; i < 3; i++) {
		char p[4200];
		snprintf(p, sizeof p, "%s%s", cfg->db_path, suffix[i]);
		unlink(p);
	}
	mt_mkdirs(cfg->db_path, true);
	snprintf(tmp, sizeof tmp, "%s.restore-tmp", cfg->db_path);
	int in = open(db, O_RDONLY | O_CLOEXEC);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int64_t bytes = 0;
	int ok = in >= 0 && out >= 0 && copy_fd(in, out, &bytes) == 0 && fsync(out) == 0;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (!ok || rename(tmp, cfg->db_path) != 0) {
		fprintf(stderr, "mltrackd restore: cannot write %s: %s\n", cfg->db_path, strerror(errno));
		unlink(tmp);
		return 1;
	}
	struct copy_stats cs = {0};
	if (copy_dir(arts, cfg->artifacts_destination, &cs) != 0) {
		fprintf(stderr, "mltrackd restore: copying the artifacts failed\n");
		return 1;
	}
	printf("restored %s (%lld bytes) and %lld artifact files (%lld bytes) from %s\n", cfg->db_path, (long long)bytes,
	       (long long)cs.files, (long long)cs.bytes, src);
	return 0;
}
