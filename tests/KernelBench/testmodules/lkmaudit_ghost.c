// SPDX-License-Identifier: GPL-2.0
/*
 * Hides more thoroughly: unlinks itself from the module list like lkmaudit_hide, and also deletes
 * its kobject, so /sys/module/lkmaudit_ghost disappears too. What still betrays it is the
 * kernel's taint (O and E stay set) and the loader's log lines naming it. No exit function; it
 * stays until reboot. Otherwise harmless. Load it only in a throw-away guest.
 */
#include <linux/module.h>
#include <linux/list.h>
#include <linux/kobject.h>

static int __init lkmaudit_ghost_init(void)
{
	list_del_init(&THIS_MODULE->list);
	kobject_del(&THIS_MODULE->mkobj.kobj);
	return 0;
}

module_init(lkmaudit_ghost_init);
MODULE_LICENSE("GPL");
MODULE_VERSION("1.0");
MODULE_DESCRIPTION("LkmPowerShell audit test: unlinks itself and deletes its sysfs entry");
