// SPDX-License-Identifier: Apache-2.0
/*
 * --host-mount-ns: a daemon started in a pod (or any container) moves into
 * the host's mount namespace before anything else happens, so that every
 * path it meets later -- an executable's, /proc/self/mountinfo, the
 * container runtimes' state, a fanotify mark, the mount namespace the BPF
 * programs call the host's -- is the host's and not its image's.
 *
 * The files the operator names (settings, policy, keys, tokens,
 * certificates, the log, the state directory) are the pod's: its ConfigMap,
 * Secret, emptyDir and hostPath mounts. Each one's directory is opened
 * (O_PATH) before the switch and the file is reached afterwards as
 * /proc/self/fd/N/<name>, for every open, rename, inotify watch and socket
 * of the run (a reload too). A directory, not the pod's root: a walk from
 * the pod's root no longer crosses the pod's mounts once the daemon is in
 * another namespace (measured: it lands in the image under a hostPath).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/daemon.h"

#define SG_POD_DIRS 48

/* The pod's directories kept open, and each option's path as given (for records). */
static struct { char *dir; int fd; } held[SG_POD_DIRS];
static size_t nheld;
static struct { const char *reached, *given; } shown[SG_POD_DIRS];
static size_t nshown;
static int pod_root = -1;

static int held_dir(const char *dir)
{
	size_t i;
	int fd;

	for (i = 0; i < nheld; i++)
		if (!strcmp(held[i].dir, dir))
			return held[i].fd;
	if (nheld == SG_POD_DIRS)
		return -1;
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	held[nheld].dir = strdup(dir);
	if (!held[nheld].dir) {
		close(fd);
		return -1;
	}
	held[nheld++].fd = fd;
	return fd;
}

/*
 * The pod's path `*p` as a path that reaches it from the host's namespace;
 * `is_dir`: `*p` names a directory the daemon puts files in.
 */
static int reach(const char **p, const char *cwd, bool is_dir)
{
	char abs[PATH_MAX], dir[PATH_MAX], base[PATH_MAX];
	char *out;
	int fd, n;

	if (!*p || !**p)
		return 0;
	n = **p == '/' ? snprintf(abs, sizeof(abs), "%s", *p)
		       : snprintf(abs, sizeof(abs), "%s/%s", strcmp(cwd, "/") ? cwd : "", *p);
	if (n < 0 || (size_t)n >= sizeof(abs))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", abs);
	snprintf(base, sizeof(base), "%s", abs);
	fd = held_dir(is_dir ? abs : dirname(dir));
	if (fd >= 0 && is_dir)
		n = asprintf(&out, "/proc/self/fd/%d", fd);
	else if (fd >= 0)
		n = asprintf(&out, "/proc/self/fd/%d/%s", fd, basename(base));
	else	/* No such directory now: a file of the image itself, or an error later. */
		n = asprintf(&out, "/proc/self/fd/%d%s", pod_root, abs);
	if (n < 0)
		return -ENOMEM;
	if (nshown < SG_POD_DIRS) {
		shown[nshown].reached = out;
		shown[nshown++].given = *p;
	}
	*p = out;	/* for the whole run, as argv's strings */
	return 0;
}

/*
 * A container runtime runs `kubectl exec` and exec probes in the mount
 * namespace of the container's first process: were that the daemon, they
 * would run on the host (the host's /bin/sh, the host's /run/sysguard). So
 * the first process stays in the pod, forwards the signals the runtime and
 * operator send (stop, reload, log reopen) and leaves with the daemon's
 * status; the daemon is its child. Returns in the child only.
 */
static void stay_in_pod(void)
{
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT };
	sigset_t set, old;
	pid_t parent = getpid(), child;
	siginfo_t si;
	size_t i;
	int st;

	sigemptyset(&set);
	for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaddset(&set, fwd[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "sysguardd: --host-mount-ns: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* The pod's process gone (SIGKILL after the grace period): stop cleanly. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			raise(SIGTERM);
		return;
	}
	/* Not "sysguardd": tools that look for the daemon by name find one process. */
	prctl(PR_SET_NAME, "sysguardd-pod");
	for (;;) {
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			kill(child, si.si_signo);
			continue;
		}
		if (waitpid(child, &st, WNOHANG) == child)
			exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
}

int daemon_join_host_mount_ns(struct options *o)
{
	const char **files[] = {
		&o->config_path, &o->policy_path, &o->log_path, &o->blocklist, &o->bundle_state,
		&o->api_token_file, &o->api_socket, &o->metrics_token_file, &o->metrics_tls_cert,
		&o->metrics_tls_key, &o->alert_ca_bundle, &o->siem_ca_file, &o->siem_cert_file,
		&o->siem_key_file,
	};
	struct stat own, now;
	char cwd[PATH_MAX];
	int root, ns, rc;
	size_t i;

	if (!o->host_mount_ns)
		return 0;
	if (!o->self_defence || (strcmp(o->self_defence, "off") && strcmp(o->self_defence, "false"))) {
		/* It keeps and restores files by their path: those would be the host's, not the pod's. */
		fprintf(stderr, "sysguardd: --host-mount-ns needs --self-defence off (the pod's "
				"files are the orchestrator's to replace)\n");
		return -EINVAL;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		fprintf(stderr, "sysguardd: --host-mount-ns: cannot open /: %s\n", strerror(errno));
		return -errno;
	}
	/* The directories the daemon writes in exist before their fds are taken. */
	if (mkdir(o->state_dir, 0700) && errno != EEXIST)
		fprintf(stderr, "sysguardd: cannot create state dir %s: %s\n", o->state_dir,
			strerror(errno));
	if (o->log_path) {
		char logdir[PATH_MAX];

		snprintf(logdir, sizeof(logdir), "%s", o->log_path);
		if (mkdir(dirname(logdir), 0700) && errno != EEXIST)
			fprintf(stderr, "sysguardd: cannot create log directory for %s: %s\n",
				o->log_path, strerror(errno));
	}
	/* Their directories are opened here, in the pod, before the switch. */
	pod_root = root;
	rc = reach(&o->state_dir, cwd, true);
	for (i = 0; !rc && i < sizeof(files) / sizeof(files[0]); i++)
		rc = reach(files[i], cwd, false);
	for (i = 0; !rc && i < o->ntrusted; i++)
		rc = reach(&o->trusted_key_paths[i], cwd, false);
	/* Policy fragments: the directory a ConfigMap per team is projected into. */
	if (!rc && o->policy_dir)
		rc = reach(&o->policy_dir, cwd, true);
	if (rc) {
		fprintf(stderr, "sysguardd: --host-mount-ns: cannot keep the pod's files in reach: %s\n",
			strerror(-rc));
		return rc;
	}
	stay_in_pod();
	if (stat("/proc/self/ns/mnt", &own))
		own.st_ino = 0;
	ns = open(o->host_mount_ns, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		fprintf(stderr, "sysguardd: --host-mount-ns: cannot open %s: %s (a pod needs hostPID "
				"and CAP_SYS_PTRACE)\n", o->host_mount_ns, strerror(errno));
		close(root);
		return -EINVAL;
	}
	/*
	 * The kernel refuses this to a process with more than one thread: main
	 * calls it before libsodium, the SIEM, the API or anything else starts
	 * one. It also moves the root and the working directory to the host's.
	 */
	if (setns(ns, CLONE_NEWNS)) {
		fprintf(stderr, "sysguardd: --host-mount-ns: cannot join the mount namespace of %s: "
				"%s (needs CAP_SYS_ADMIN and CAP_SYS_CHROOT)\n", o->host_mount_ns,
			strerror(errno));
		close(ns);
		close(root);
		return -EINVAL;
	}
	close(ns);
	/* Without hostPID, /proc/1 is this container's own first process. */
	if (own.st_ino && stat("/proc/self/ns/mnt", &now) == 0 && now.st_ino == own.st_ino)
		fprintf(stderr, "sysguardd: --host-mount-ns: %s is the daemon's own mount namespace: "
				"is hostPID on?\n", o->host_mount_ns);
	return 0;
}

const char *daemon_shown_path(const char *path)
{
	size_t i;

	for (i = 0; path && i < nshown; i++)
		if (path == shown[i].reached || !strcmp(path, shown[i].reached))
			return shown[i].given;
	return path;
}
