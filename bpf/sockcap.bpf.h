/* sockcap.bpf.h - helpers used only by the BPF programs. */
#ifndef SOCKCAP_BPF_H
#define SOCKCAP_BPF_H

/* Linux ABI values (not in vmlinux.h, which has types, not macros). */
#define SC_AF_UNIX_K 1
#define SC_AF_INET_K 2
#define SC_AF_INET6_K 10
#define SC_SOCK_STREAM_K 1
#define SC_S_IFMT 0170000
#define SC_S_IFSOCK 0140000
#define SC_EINPROGRESS 115
#define SC_MSG_PEEK 2

/* Syscall numbers of the raw_syscalls tracepoints, per architecture.  The
 * per-syscall tracepoints do not need them. */
#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_splice 275
#define NR_accept4 288
#define NR_recvmmsg 299
#define NR_sendmmsg 307
#define SC_REGS_NR(regs) BPF_CORE_READ((regs), orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define NR_close 57
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_sendfile 71
#define NR_splice 76
#define NR_accept 202
#define NR_connect 203
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#define NR_accept4 242
#define NR_recvmmsg 243
#define NR_sendmmsg 269
#define SC_REGS_NR(regs) BPF_CORE_READ((regs), syscallno)
#else
#error "sockcap's raw_syscalls attach mode knows the syscall numbers of x86_64 and arm64 only"
#endif

/* Map a raw syscall number to sockcap's code, 0 for the uninteresting ones.
 * This is the first thing the raw_syscalls programs do for every syscall on
 * the machine, so it must stay a handful of compares. */
static __always_inline __u32 sys_of_nr(long nr)
{
	switch (nr) {
	case NR_read: return SC_BPF_SYS_READ;
	case NR_write: return SC_BPF_SYS_WRITE;
	case NR_close: return SC_BPF_SYS_CLOSE;
	case NR_readv: return SC_BPF_SYS_READV;
	case NR_writev: return SC_BPF_SYS_WRITEV;
	case NR_sendfile: return SC_BPF_SYS_SENDFILE;
	case NR_connect: return SC_BPF_SYS_CONNECT;
	case NR_accept: return SC_BPF_SYS_ACCEPT;
	case NR_accept4: return SC_BPF_SYS_ACCEPT4;
	case NR_sendto: return SC_BPF_SYS_SENDTO;
	case NR_recvfrom: return SC_BPF_SYS_RECVFROM;
	case NR_sendmsg: return SC_BPF_SYS_SENDMSG;
	case NR_recvmsg: return SC_BPF_SYS_RECVMSG;
	case NR_splice: return SC_BPF_SYS_SPLICE;
	case NR_recvmmsg: return SC_BPF_SYS_RECVMMSG;
	case NR_sendmmsg: return SC_BPF_SYS_SENDMMSG;
	}
	return 0;
}

/* struct file before 6.13 counted references in f_count; since then in
 * f_ref, where 0 means one reference (FILE_REF_ONEREF). */
struct file___fcount {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/* The file behind `fd` in the current task, or NULL.  Direct loads through
 * the task's BTF pointer (BPF_PROBE_MEM) cost a few instructions where a
 * bpf_probe_read_kernel costs a helper call; only the fd array element, an
 * index into a pointer array, needs the helper. */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = task->files;
	struct fdtable *fdt;
	struct file *f = NULL;

	if (!files || fd < 0)
		return NULL;
	fdt = files->fdt;
	if (!fdt || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]))
		return NULL;
	return f;
}

/* The socket behind `fd` if it is one (inode type S_IFSOCK), else NULL.
 * Deciding from the file, not from a map filled at connect/accept, is what
 * lets connections opened before recording started be captured. */
static __always_inline struct sock *fd_sock(int fd, __u64 *inode)
{
	struct file *f = fd_file(fd);
	struct inode *ino;
	struct socket *so;

	if (!f)
		return NULL;
	ino = BPF_CORE_READ(f, f_inode);
	if (!ino || (BPF_CORE_READ(ino, i_mode) & SC_S_IFMT) != SC_S_IFSOCK)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	if (!so)
		return NULL;
	*inode = BPF_CORE_READ(ino, i_ino);
	return BPF_CORE_READ(so, sk);
}

/* Whether closing `fd` drops the last reference to its file (so the socket
 * goes away with it, rather than living on in a dup or a child). */
static __always_inline bool fd_last_ref(int fd)
{
	struct file *f = fd_file(fd);

	if (!f)
		return false;
	if (bpf_core_field_exists(f->f_ref))
		return BPF_CORE_READ(f, f_ref.refcnt.counter) == 0;
	return BPF_CORE_READ((struct file___fcount *)f, f_count.counter) == 1;
}

#endif
