// SPDX-License-Identifier: GPL-2.0
/*
 * sgvm_selftest - tiny module used only by selftests/vm/test-harness.sh to
 * check that run-in-vm.sh loads out-of-tree modules with parameters and
 * detects splats.  Loaded only inside QEMU guests, never on the host.
 *
 *   warn=1   WARN() during init (the harness must report 125)
 *   fail=1   init returns -EINVAL (the harness must report 126)
 *   tag=N    value shown in /sys/module/sgvm_selftest/parameters/tag
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/bug.h>

static bool warn;
module_param(warn, bool, 0444);
static bool fail;
module_param(fail, bool, 0444);
static int tag;
module_param(tag, int, 0444);

static int __init sgvm_selftest_init(void)
{
	if (fail)
		return -EINVAL;
	WARN(warn, "sgvm_selftest: requested warning (tag=%d)\n", tag);
	pr_info("sgvm_selftest: loaded, tag=%d\n", tag);
	return 0;
}

static void __exit sgvm_selftest_exit(void)
{
}

module_init(sgvm_selftest_init);
module_exit(sgvm_selftest_exit);
MODULE_DESCRIPTION("run-in-vm.sh harness self-test module");
MODULE_LICENSE("GPL");
