/*  test_config.c - zchat-broker's --repair setting: off unless asked, by the flag or
    by ZCHAT_REPAIR, and a value of the variable that means neither is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "config.h"

static config_t s_config;

static int
s_parse (int with_flag)
{
    char *argv [] = { "zchat-broker", "--data", "/tmp/unused", "7000", NULL, NULL };
    if (with_flag) {
        argv [4] = argv [3];
        argv [3] = "--repair";
    }
    return config_parse (&s_config, with_flag ? 5 : 4, argv);
}

static void
repair_is_off_unless_the_flag_is_given (void **state)
{
    (void) state;
    unsetenv ("ZCHAT_REPAIR");
    assert_int_equal (s_parse (0), 0);
    assert_false (s_config.repair);
    assert_int_equal (s_parse (1), 0);
    assert_true (s_config.repair);
}

static void
repair_can_come_from_the_environment (void **state)
{
    (void) state;
    setenv ("ZCHAT_REPAIR", "1", 1);
    assert_int_equal (s_parse (0), 0);
    assert_true (s_config.repair);
    setenv ("ZCHAT_REPAIR", "0", 1);
    assert_int_equal (s_parse (0), 0);
    assert_false (s_config.repair);
    assert_int_equal (s_parse (1), 0);      /* the flag beats the variable */
    assert_true (s_config.repair);
    setenv ("ZCHAT_REPAIR", "maybe", 1);
    assert_int_equal (s_parse (0), -1);
    unsetenv ("ZCHAT_REPAIR");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (repair_is_off_unless_the_flag_is_given),
        cmocka_unit_test (repair_can_come_from_the_environment),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
