// SPDX-License-Identifier: Apache-2.0
/*
 * `fleet view`'s denies per interval (src/report/fleet_history.c): the
 * differences of the cumulative counters between samples, each in the
 * interval its sample was written in; a restart (another run, or a count
 * gone down) counts the new run from 0; a run that began before the window
 * does not bring its old count in; intervals outside a node's samples are
 * unknown; --step durations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "report/fleet_history.h"

#define T0 1764694800ull	/* window start in the tests below */
#define STEP 600ull

static void test_differences_go_to_the_interval_of_their_sample(void **state)
{
	/* Run started before the window with 100 denies: only what came after counts. */
	const struct sg_fleet_point p[] = {
		{ T0 - 60, T0 - 3600, 100, 1 },
		{ T0 + 10, T0 - 3600, 103, 1 },
		{ T0 + 600, T0 - 3600, 103, 1 },
		{ T0 + 1300, T0 - 3600, 110, 3 },
		{ T0 + 1350, T0 - 3600, 111, 3 },
	};
	struct sg_fleet_interval out[3];

	assert_int_equal(sg_fleet_intervals(p, 5, T0 + 3 * STEP, STEP, 3, out), 0);
	assert_true(out[0].known && out[1].known && out[2].known);
	assert_int_equal(out[0].denies, 3);
	assert_int_equal(out[1].denies, 0);
	assert_int_equal(out[2].denies, 8);
	assert_int_equal(out[2].kills, 2);
}

static void test_a_restart_counts_the_new_run_from_zero(void **state)
{
	const struct sg_fleet_point p[] = {
		{ T0 + 10, T0 - 99, 50, 0 },
		{ T0 + 70, T0 - 99, 55, 0 },
		/* Restarted: another run, 2 since its start. */
		{ T0 + 130, T0 + 120, 2, 0 },
		{ T0 + 190, T0 + 120, 4, 0 },
		/* An older entry without `started`: only the count going down shows the restart. */
		{ T0 + 700, 0, 9, 0 },
		{ T0 + 760, 0, 1, 0 },
		{ T0 + 820, 0, 6, 0 },
	};
	struct sg_fleet_interval out[2];

	assert_int_equal(sg_fleet_intervals(p, 7, T0 + 2 * STEP, STEP, 2, out), 0);
	assert_int_equal(out[0].denies, 5 + 2 + 2);
	/* 9: the run switched to started 0; then 1 (reset) and 5. */
	assert_int_equal(out[1].denies, 9 + 1 + 5);
}

static void test_a_run_started_in_the_window_brings_its_first_count(void **state)
{
	const struct sg_fleet_point p[] = {
		{ T0 + 400, T0 + 300, 7, 1 },
		{ T0 + 500, T0 + 300, 9, 1 },
	};
	struct sg_fleet_interval out[2];

	assert_int_equal(sg_fleet_intervals(p, 2, T0 + 2 * STEP, STEP, 2, out), 0);
	assert_int_equal(out[0].denies, 9);
	assert_int_equal(out[0].kills, 1);
	assert_true(out[0].known);
	/* After the last sample: the node was silent, nothing is known. */
	assert_false(out[1].known);
	assert_int_equal(out[1].denies, 0);
}

static void test_intervals_before_the_first_sample_are_unknown(void **state)
{
	const struct sg_fleet_point p[] = { { T0 + 1250, T0 + 1240, 0, 0 }, { T0 + 1790, T0 + 1240, 4, 0 } };
	struct sg_fleet_interval out[3];

	assert_int_equal(sg_fleet_intervals(p, 2, T0 + 3 * STEP, STEP, 3, out), 0);
	assert_false(out[0].known);
	assert_false(out[1].known);
	assert_true(out[2].known);
	assert_int_equal(out[2].denies, 4);
	assert_int_equal(sg_fleet_intervals(NULL, 0, T0, STEP, 3, out), 0);
	assert_false(out[2].known);
	assert_int_equal(sg_fleet_intervals(p, 2, T0, STEP, 0, out), -EINVAL);
	assert_int_equal(sg_fleet_intervals(p, 2, T0, 0, 3, out), -EINVAL);
	assert_int_equal(sg_fleet_intervals(p, 2, T0, STEP, SG_FLEET_INTERVALS_MAX + 1, out), -EINVAL);
}

/*
 * fleet view takes its end before it reads the entries: a status entry
 * renewed meanwhile is stamped at or after the end, and is still the
 * newest interval's (it was dropped, and with it a new node's denies).
 */
static void test_a_sample_written_while_reading_is_the_newest_intervals(void **state)
{
	const struct sg_fleet_point p[] = {
		{ T0 + 2 * STEP + 10, T0 + 2 * STEP + 10, 0, 0 },
		{ T0 + 3 * STEP, T0 + 2 * STEP + 10, 2, 1 },
	};
	struct sg_fleet_interval out[3];

	assert_int_equal(sg_fleet_intervals(p, 2, T0 + 3 * STEP, STEP, 3, out), 0);
	assert_false(out[1].known);
	assert_true(out[2].known);
	assert_int_equal(out[2].denies, 2);
	assert_int_equal(out[2].kills, 1);
	/* Only the late one: the newest interval is known, and has its whole count. */
	assert_int_equal(sg_fleet_intervals(&p[1], 1, T0 + 3 * STEP, STEP, 3, out), 0);
	assert_true(out[2].known);
	assert_int_equal(out[2].denies, 2);
}

static void test_step_durations(void **state)
{
	uint64_t s = 0;

	assert_int_equal(sg_fleet_parse_step("10m", &s), 0);
	assert_int_equal(s, 600);
	assert_int_equal(sg_fleet_parse_step("45", &s), 0);
	assert_int_equal(s, 45);
	assert_int_equal(sg_fleet_parse_step("30s", &s), 0);
	assert_int_equal(s, 30);
	assert_int_equal(sg_fleet_parse_step("2h", &s), 0);
	assert_int_equal(s, 7200);
	assert_int_equal(sg_fleet_parse_step("1d", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(sg_fleet_parse_step("0", &s), -EINVAL);
	assert_int_equal(sg_fleet_parse_step("8d", &s), -EINVAL);
	assert_int_equal(sg_fleet_parse_step("10x", &s), -EINVAL);
	assert_int_equal(sg_fleet_parse_step("10mm", &s), -EINVAL);
	assert_int_equal(sg_fleet_parse_step("-1", &s), -EINVAL);
	assert_int_equal(sg_fleet_parse_step("", &s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_differences_go_to_the_interval_of_their_sample),
		cmocka_unit_test(test_a_restart_counts_the_new_run_from_zero),
		cmocka_unit_test(test_a_run_started_in_the_window_brings_its_first_count),
		cmocka_unit_test(test_intervals_before_the_first_sample_are_unknown),
		cmocka_unit_test(test_a_sample_written_while_reading_is_the_newest_intervals),
		cmocka_unit_test(test_step_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
