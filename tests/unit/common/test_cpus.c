/* tests/unit/common/test_cpus.c: cpulists and an environment's CPU share. */
#include <criterion/criterion.h>
#include <errno.h>

#include "common/cpus.h"

static void set_of(cpu_set_t *s, const int *cpus, int n)
{
    CPU_ZERO(s);
    for (int i = 0; i < n; i++)
        CPU_SET(cpus[i], s);
}

Test(cpus, parses_ranges_and_singles)
{
    cpu_set_t s;

    cr_assert_eq(ld_cpus_parse("0-2,5", &s), 0);
    cr_assert_eq(CPU_COUNT(&s), 4);
    cr_assert(CPU_ISSET(0, &s) && CPU_ISSET(1, &s) && CPU_ISSET(2, &s) && CPU_ISSET(5, &s));
    cr_assert_eq(ld_cpus_parse("7", &s), 0);
    cr_assert_eq(CPU_COUNT(&s), 1);
    cr_assert(CPU_ISSET(7, &s));
}

Test(cpus, rejects_malformed_lists)
{
    static const char *const bad[] = {"", "a", "1-", "-1", "3-1", "1,,2", "1,", "1 2", "99999", "0x1"};
    cpu_set_t s;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(ld_cpus_parse(bad[i], &s), -EINVAL, "accepted \"%s\"", bad[i]);
    cr_assert_eq(ld_cpus_parse(NULL, &s), -EINVAL);
}

Test(cpus, formats_what_it_parses)
{
    static const char *const lists[] = {"0", "1", "0-3", "0,2,4", "1-2,4-6,9"};
    char buf[64];
    cpu_set_t s;

    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        cr_assert_eq(ld_cpus_parse(lists[i], &s), 0);
        cr_assert_eq(ld_cpus_format(&s, buf, sizeof buf), 0);
        cr_expect_str_eq(buf, lists[i]);
    }
}

Test(cpus, format_refuses_empty_and_small_buffers)
{
    cpu_set_t s;
    char buf[3];

    CPU_ZERO(&s);
    cr_assert_eq(ld_cpus_format(&s, buf, sizeof buf), -EINVAL);
    cr_assert_eq(ld_cpus_parse("10-12", &s), 0);
    cr_assert_eq(ld_cpus_format(&s, buf, sizeof buf), -ENOSPC);
}

Test(cpus, memory_buys_cpus_as_on_lambda)
{
    const int all[] = {0, 1, 2, 3, 4, 5, 6, 7};
    cpu_set_t allowed, env;

    set_of(&allowed, all, 8);
    /* Under 1,769 MB: one CPU, the last one. */
    cr_assert_eq(ld_cpus_for_memory(&allowed, 128, &env), 0);
    cr_assert_eq(CPU_COUNT(&env), 1);
    cr_assert(CPU_ISSET(7, &env));
    cr_assert_eq(ld_cpus_for_memory(&allowed, 1769, &env), 0);
    cr_assert_eq(CPU_COUNT(&env), 1);
    /* Just over: two. 10,240 MB: six. */
    cr_assert_eq(ld_cpus_for_memory(&allowed, 1770, &env), 0);
    cr_assert_eq(CPU_COUNT(&env), 2);
    cr_assert(CPU_ISSET(6, &env) && CPU_ISSET(7, &env));
    cr_assert_eq(ld_cpus_for_memory(&allowed, 10240, &env), 0);
    cr_assert_eq(CPU_COUNT(&env), 6);
    cr_assert(!CPU_ISSET(0, &env) && !CPU_ISSET(1, &env));
}

Test(cpus, memory_share_is_capped_by_what_is_allowed)
{
    const int two[] = {0, 3};
    cpu_set_t allowed, env;

    set_of(&allowed, two, 2);
    cr_assert_eq(ld_cpus_for_memory(&allowed, 10240, &env), 0);
    cr_assert_eq(CPU_COUNT(&env), 2);
    cr_assert(CPU_ISSET(0, &env) && CPU_ISSET(3, &env));
    CPU_ZERO(&allowed);
    cr_assert_eq(ld_cpus_for_memory(&allowed, 128, &env), -EINVAL);
}
