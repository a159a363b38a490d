// SPDX-License-Identifier: GPL-2.0
/*
 * An ordinary out-of-tree module: unsigned, built outside the kernel tree. Loading it taints the
 * kernel O (out-of-tree) and E (unsigned); it can be unloaded again. It does nothing else.
 */
#include <linux/module.h>

static int __init lkmaudit_plain_init(void)
{
	return 0;
}

static void __exit lkmaudit_plain_exit(void)
{
}

module_init(lkmaudit_plain_init);
module_exit(lkmaudit_plain_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION("1.0");
MODULE_DESCRIPTION("LkmPowerShell audit test: an ordinary out-of-tree module");
