// SPDX-License-Identifier: GPL-2.0
/*
 * Hides itself the way public LKM rootkits do (Diamorphine, Reptile): its init unlinks the
 * module from the kernel's module list, so /proc/modules, lsmod and /proc/kallsyms no longer
 * show it. Its /sys/module/lkmaudit_hide directory stays (initstate live, taint OE). It has no
 * exit function: a module that is not on the list cannot be unloaded anyway. Otherwise harmless.
 * Load it only in a throw-away guest: it stays until reboot.
 */
#include <linux/module.h>
#include <linux/list.h>

static int __init lkmaudit_hide_init(void)
{
	list_del_init(&THIS_MODULE->list);
	return 0;
}

module_init(lkmaudit_hide_init);
MODULE_LICENSE("GPL");
MODULE_VERSION("1.0");
MODULE_DESCRIPTION("LkmPowerShell audit test: unlinks itself from the module list");
