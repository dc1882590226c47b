/*  test_config.c - zchat-broker's --repair setting: off unless asked, by the flag or
    by ZCHAT_REPAIR, and a value of the variable that means neither is refused;
    --advertise (ZCHAT_ADVERTISE) must be one HOST:PORT. */
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
    assert_int_equal (s_parse (1), 0); /* the flag beats the variable */
    assert_true (s_config.repair);
    setenv ("ZCHAT_REPAIR", "maybe", 1);
    assert_int_equal (s_parse (0), -1);
    unsetenv ("ZCHAT_REPAIR");
}

static void
advertise_is_one_host_and_port (void **state)
{
    (void) state;
    char *ok [] = { "zchat-broker", "--advertise", "127.0.0.1:7004", "7000", NULL };
    assert_int_equal (config_parse (&s_config, 4, ok), 0);
    assert_string_equal (s_config.advertise, "127.0.0.1:7004");
    char *none [] = { "zchat-broker", "7000", NULL };
    assert_int_equal (config_parse (&s_config, 2, none), 0);
    assert_string_equal (s_config.advertise, ""); /* the --peers entry then */
    setenv ("ZCHAT_ADVERTISE", "chat.example.org:443", 1);
    assert_int_equal (config_parse (&s_config, 2, none), 0);
    assert_string_equal (s_config.advertise, "chat.example.org:443");
    const char *bad [] = { "7004", ":7004", "host:", "host:0", "host:70000", "a:1,b:2" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        setenv ("ZCHAT_ADVERTISE", bad [i], 1);
        assert_int_equal (config_parse (&s_config, 2, none), -1);
    }
    unsetenv ("ZCHAT_ADVERTISE");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (repair_is_off_unless_the_flag_is_given),
        cmocka_unit_test (repair_can_come_from_the_environment),
        cmocka_unit_test (advertise_is_one_host_and_port),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
