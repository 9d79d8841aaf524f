/* replay: a main() for a fuzz target built without libFuzzer (gcc, valgrind, the normal test
 * suite). Every file named on the command line, and every file of every directory named, is fed
 * once to LLVMFuzzerTestOneInput(); a broken property traps and fails the test. So the seed
 * corpus, and every crash saved into it, is a regression test of the normal build.
 *
 * Each input is read into an allocation of exactly its size, as libFuzzer does, so that ASan and
 * valgrind see a read past its end. Its name is printed before it runs: when a run dies, the last
 * name in the log is the input that killed it. No input at all is a failure (a corpus directory
 * that was moved must not pass silently). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "util.h"

/* Read the whole file at path into a new exact-size buffer. Returns 0 or -errno. */
static int read_file(const char *path, uint8_t **ret, size_t *ret_len) {
        struct stat st;
        uint8_t *buf = NULL;
        size_t n = 0;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                goto finish;
        }
        /* At least one byte, so that an empty input is a valid pointer, as libFuzzer passes it. */
        buf = malloc(st.st_size > 0 ? (size_t) st.st_size : 1);
        if (!buf) {
                r = -ENOMEM;
                goto finish;
        }
        /* Fewer bytes if the file shrank meanwhile: run what was read. */
        r = read_full(fd, buf, (size_t) st.st_size, &n);
        if (r < 0)
                goto finish;
        *ret = buf;
        *ret_len = n;
        buf = NULL;
finish:
        free(buf);
        close(fd);
        return r;
}

static int run_file(const char *path) {
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        r = read_file(path, &data, &len);
        if (r < 0) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(-r));
                return r;
        }
        printf("replay: %s (%zu bytes)\n", path, len);
        (void) fflush(stdout);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        return 0;
}

static int skip_dot(const struct dirent *de) {
        return de->d_name[0] != '.';
}

/* Run every regular file of dir, in name order. Returns the number run, or -errno. */
static int run_dir(const char *dir) {
        struct dirent **names;
        int n, ran = 0, r = 0;

        n = scandir(dir, &names, skip_dot, alphasort);
        if (n < 0) {
                r = -errno;
                fprintf(stderr, "replay: %s: %s\n", dir, strerror(-r));
                return r;
        }
        for (int i = 0; i < n; i++) {
                char path[4096];
                struct stat st;

                if (r >= 0 && snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) < (int) sizeof(path) &&
                    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                        r = run_file(path);
                        if (r >= 0)
                                ran++;
                }
                free(names[i]);
        }
        free(names);
        return r < 0 ? r : ran;
}

int main(int argc, char **argv) {
        int total = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
                return 64;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                r = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) < 0 ? -EIO : 1;
                if (r < 0)
                        return 1;
                total += r;
        }
        if (total == 0) {
                fprintf(stderr, "replay: no input found\n");
                return 1;
        }
        printf("replay: %d inputs, every property held\n", total);
        return 0;
}
