// SPDX-License-Identifier: GPL-2.0
/*
 * ptyrun SECS CMD [ARGS...]: run CMD with stdin, stdout and stderr on a new
 * pseudo-terminal and copy what it writes to our stdout; kill CMD's whole
 * session after SECS seconds. Exits with CMD's status (128+N if signal N
 * ended it, 137 after the time limit).
 *
 * Why: the kernel's selftests print with stdio and fork. Into a pipe or a
 * file, stdout is fully buffered, so a forked child that exits writes the
 * parent's unflushed lines a second time and lines come out of order; on a
 * terminal stdio flushes every line, as when a developer runs them. busybox
 * has no script(1) and the programs are static (no stdbuf).
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct termios tio;
	int master, slave, status;
	char buf[4096], *end;
	long secs;
	ssize_t r;
	pid_t pid;

	if (argc < 3 || (secs = strtol(argv[1], &end, 10)) <= 0 || *end) {
		fprintf(stderr, "usage: ptyrun SECS CMD [ARGS...]\n");
		return 2;
	}
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		perror("ptyrun: pty");
		return 2;
	}
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	if (slave < 0) {
		perror("ptyrun: open slave");
		return 2;
	}
	/* no "\n" -> "\r\n", no echo: the output as the program wrote it */
	if (tcgetattr(slave, &tio) == 0) {
		tio.c_oflag &= ~OPOST;
		tio.c_lflag &= ~(ECHO | ICANON);
		tcsetattr(slave, TCSANOW, &tio);
	}
	pid = fork();
	if (pid < 0) {
		perror("ptyrun: fork");
		return 2;
	}
	if (pid == 0) {
		close(master);
		setsid();
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (slave > 2)
			close(slave);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "ptyrun: exec %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	close(slave);
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned int)secs);
	for (;;) {
		r = read(master, buf, sizeof(buf));
		if (r > 0) {
			if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
				break;
			fflush(stdout);
			continue;
		}
		if (r < 0 && errno == EINTR && !timed_out)
			continue;
		break;	/* EIO: every writer closed the terminal; or the alarm */
	}
	if (timed_out) {
		kill(-pid, SIGKILL);
		printf("ptyrun: killed after %ld s\n", secs);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 2;
	if (timed_out)
		return 137;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
