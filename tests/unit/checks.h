/* tests/unit/checks.h: the checks every unit test can end with.
 *
 * Criterion runs each test in its own process but ignores LeakSanitizer at
 * that process's exit, so a test that allocates asks LSan itself; tests that
 * open sockets compare the open-fd count before and after (STYLE.md §10). */
#ifndef LD_TESTS_CHECKS_H
#define LD_TESTS_CHECKS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static inline void assert_no_leaks(void)
{
#ifdef HAVE_LSAN
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "leaked (LeakSanitizer report above)");
#endif
}

static inline int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    cr_assert_not_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

/* Lines of our mount table that mention `needle`: what a test left mounted. */
static inline int count_mounts_of(const char *needle)
{
    char line[1024];
    FILE *f = fopen("/proc/self/mountinfo", "r");
    int n = 0;

    cr_assert_not_null(f);
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

#endif
