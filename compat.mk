# SPDX-License-Identifier: GPL-2.0
# compat.h switches, probed in the headers (see there).
# probe = $(call probe,TEXT,FILES): y if any of FILES (under include/) has TEXT.
probe = $(shell grep -qs '$(1)' $(addprefix $(srctree)/include/,$(2)) && echo y)
ifneq ($(call probe,struct ftrace_regs,linux/ftrace.h),y)
ccflags-y += -DCOMPAT_NO_FTRACE_REGS
endif
ifneq ($(call probe,define ftrace_regs_get_argument,linux/ftrace.h \
	linux/ftrace_regs.h ../arch/$(SRCARCH)/include/asm/ftrace.h),y)
ccflags-y += -DCOMPAT_NO_FTRACE_REGS_GET_ARGUMENT
endif
ifeq ($(call probe,ftrace_instruction_pointer_set,linux/ftrace.h),y)
ccflags-y += -DCOMPAT_FTRACE_INSTRUCTION_POINTER_SET
endif
ifneq ($(call probe,void \*pde_data,linux/proc_fs.h),y)
ccflags-y += -DCOMPAT_PDE_DATA_UPPER
endif
ifeq ($(call probe,opt_child_init,net/inet_connection_sock.h),y)
ccflags-y += -DCOMPAT_SYN_RECV_SOCK_OPT_CHILD_INIT
endif
ifeq ($(call probe,sockaddr_unsized,linux/socket.h),y)
ccflags-y += -DCOMPAT_SOCKADDR_UNSIZED
endif
