/*
 * System V IPC against qemu-mipsel: semaphores, message queues and shared
 * memory, through glibc (the `ipc` multiplexer on o32). o32 lays out the
 * *id64_ds structures and a message's `long mtype` in 32 bits; waits
 * (semop, msgrcv) end when another thread or a forked child acts; shared
 * memory is shared with a child and between two attachments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int sem_id;

static void *sem_poster(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++)
        sched_yield();
    struct sembuf up = {.sem_num = 2, .sem_op = 1};
    semop(sem_id, &up, 1);
    return NULL;
}

static void semaphores(void)
{
    sem_id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    printf("semget: %s\n", sem_id >= 0 ? "ok" : strerror(errno));
    union semun a = {.val = 5};
    printf("SETVAL %d GETVAL %d\n", semctl(sem_id, 0, SETVAL, a), semctl(sem_id, 0, GETVAL));
    unsigned short all[3] = {7, 8, 0}, back[3];
    a.array = all;
    int r = semctl(sem_id, 0, SETALL, a);
    a.array = back;
    int r2 = semctl(sem_id, 0, GETALL, a);
    printf("SETALL %d GETALL %d: %u %u %u\n", r, r2, back[0], back[1], back[2]);

    struct sembuf ops[2] = {{.sem_num = 0, .sem_op = -3}, {.sem_num = 1, .sem_op = 2}};
    printf("semop: %d, now %d %d, GETPID is me %d\n", semop(sem_id, ops, 2), semctl(sem_id, 0, GETVAL),
           semctl(sem_id, 1, GETVAL), semctl(sem_id, 0, GETPID) == getpid());
    struct sembuf take = {.sem_num = 2, .sem_op = -1, .sem_flg = IPC_NOWAIT};
    r = semop(sem_id, &take, 1);
    printf("semop IPC_NOWAIT on 0: %d errno %d\n", r, r < 0 ? errno : 0);
    struct timespec ts = {0, 20 * 1000 * 1000};
    take.sem_flg = 0;
    r = semtimedop(sem_id, &take, 1, &ts);
    printf("semtimedop timing out: %d errno %d\n", r, r < 0 ? errno : 0);

    /* A wait another thread ends. */
    pthread_t t;
    pthread_create(&t, NULL, sem_poster, NULL);
    r = semop(sem_id, &take, 1);
    pthread_join(t, NULL);
    printf("semop woken by a thread: %d, value %d\n", r, semctl(sem_id, 2, GETVAL));

    /* ... and one a child ends. */
    pid_t child = fork();
    if (child == 0) {
        usleep(10000);
        struct sembuf up = {.sem_num = 2, .sem_op = 2};
        _exit(semop(sem_id, &up, 1) == 0 ? 0 : 1);
    }
    struct sembuf two = {.sem_num = 2, .sem_op = -2};
    r = semop(sem_id, &two, 1);
    int st;
    waitpid(child, &st, 0);
    printf("semop woken by a child: %d, child status %d\n", r, WEXITSTATUS(st));

    struct semid_ds ds;
    a.buf = &ds;
    r = semctl(sem_id, 0, IPC_STAT, a);
    printf("IPC_STAT %d: nsems %lu mode %o uid is mine %d otime set %d\n", r, (unsigned long)ds.sem_nsems,
           ds.sem_perm.mode & 0777, ds.sem_perm.uid == getuid(), ds.sem_otime != 0);
    ds.sem_perm.mode = 0640;
    r = semctl(sem_id, 0, IPC_SET, a);
    semctl(sem_id, 0, IPC_STAT, a);
    printf("IPC_SET %d: mode %o\n", r, ds.sem_perm.mode & 0777);
    struct seminfo info;
    a.buf = (struct semid_ds *)&info;
    r = semctl(sem_id, 0, IPC_INFO, a);
    printf("IPC_INFO: %d semmsl>0 %d semopm>0 %d\n", r >= 0, info.semmsl > 0, info.semopm > 0);
    printf("IPC_RMID %d, then GETVAL %d errno %d\n", semctl(sem_id, 0, IPC_RMID), semctl(sem_id, 0, GETVAL), errno);
}

struct message {
    long mtype;
    char mtext[32];
};

static int msg_id;

static void *msg_sender(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++)
        sched_yield();
    struct message m = {.mtype = 9};
    strcpy(m.mtext, "from a thread");
    msgsnd(msg_id, &m, strlen(m.mtext) + 1, 0);
    return NULL;
}

static void queues(void)
{
    msg_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    printf("msgget: %s\n", msg_id >= 0 ? "ok" : strerror(errno));
    const char *texts[] = {"two", "one", "three", "minus"};
    long types[] = {2, 1, 3, 2};
    for (int i = 0; i < 4; i++) {
        struct message m = {.mtype = types[i]};
        strcpy(m.mtext, texts[i]);
        if (msgsnd(msg_id, &m, strlen(texts[i]) + 1, 0) != 0)
            printf("msgsnd: %s\n", strerror(errno));
    }
    struct message bad = {.mtype = 0};
    int r = msgsnd(msg_id, &bad, 1, 0);
    printf("msgsnd type 0: %d errno %d\n", r, r < 0 ? errno : 0);

    struct msqid_ds ds;
    msgctl(msg_id, IPC_STAT, &ds);
    printf("IPC_STAT: qnum %lu cbytes %lu qbytes>0 %d lspid is me %d\n", (unsigned long)ds.msg_qnum,
           (unsigned long)ds.__msg_cbytes, ds.msg_qbytes > 0, ds.msg_lspid == getpid());

    struct message m;
    ssize_t n = msgrcv(msg_id, &m, sizeof m.mtext, 0, 0);
    printf("msgrcv any: %zd type %ld '%s'\n", n, m.mtype, m.mtext);
    n = msgrcv(msg_id, &m, sizeof m.mtext, -2, 0);
    printf("msgrcv type <= 2: %zd type %ld '%s'\n", n, m.mtype, m.mtext);
    n = msgrcv(msg_id, &m, sizeof m.mtext, 3, MSG_EXCEPT);
    printf("msgrcv not 3: %zd type %ld '%s'\n", n, m.mtype, m.mtext);
    n = msgrcv(msg_id, &m, 2, 3, 0);
    printf("msgrcv too small: %zd errno %d\n", n, n < 0 ? errno : 0);
    memset(m.mtext, 0, sizeof m.mtext);
    n = msgrcv(msg_id, &m, 2, 3, MSG_NOERROR);
    printf("msgrcv MSG_NOERROR: %zd type %ld '%.2s'\n", n, m.mtype, m.mtext);
    n = msgrcv(msg_id, &m, sizeof m.mtext, 0, IPC_NOWAIT);
    printf("msgrcv empty IPC_NOWAIT: %zd errno %d\n", n, n < 0 ? errno : 0);

    pthread_t t;
    pthread_create(&t, NULL, msg_sender, NULL);
    n = msgrcv(msg_id, &m, sizeof m.mtext, 9, 0);
    pthread_join(t, NULL);
    printf("msgrcv woken by a thread: %zd type %ld '%s'\n", n, m.mtype, m.mtext);

    ds.msg_qbytes = 1000;
    r = msgctl(msg_id, IPC_SET, &ds);
    msgctl(msg_id, IPC_STAT, &ds);
    printf("IPC_SET %d: qbytes %lu\n", r, (unsigned long)ds.msg_qbytes);
    printf("IPC_RMID %d, then msgsnd errno ", msgctl(msg_id, IPC_RMID, NULL));
    struct message last = {.mtype = 1};
    printf("%d\n", msgsnd(msg_id, &last, 1, 0) < 0 ? errno : 0);
}

static void shared_memory(void)
{
    int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    printf("shmget: %s\n", id >= 0 ? "ok" : strerror(errno));
    char *p = shmat(id, NULL, 0);
    if (p == (void *)-1) {
        printf("shmat: %s\n", strerror(errno));
        return;
    }
    printf("shmat: aligned to SHMLBA %d, zeroed %d\n", ((uintptr_t)p & 0x3ffff) == 0, p[0] == 0 && p[9999] == 0);
    strcpy(p, "parent");
    char *q = shmat(id, NULL, SHM_RDONLY);
    printf("second attachment: distinct %d, sees '%s'\n", q != p, q);
    strcpy(p + 100, "written through the first");
    printf("second sees the first's later write: '%s'\n", q + 100);

    pid_t child = fork();
    if (child == 0) {
        char *c = shmat(id, NULL, 0);
        strcpy(p + 200, "child, inherited");
        strcpy(c + 300, "child, own attachment");
        shmdt(c);
        _exit(0);
    }
    int st;
    waitpid(child, &st, 0);
    printf("child wrote: '%s', '%s'\n", p + 200, p + 300);

    struct shmid_ds ds;
    int r = shmctl(id, IPC_STAT, &ds);
    printf("IPC_STAT %d: segsz %zu nattch %lu cpid is me %d mode %o\n", r, (size_t)ds.shm_segsz,
           (unsigned long)ds.shm_nattch, ds.shm_cpid == getpid(), ds.shm_perm.mode & 0777);

    /* A place known free: where an attachment just was. */
    char *spot = shmat(id, NULL, 0);
    shmdt(spot);
    char *mis = shmat(id, spot + 0x1000, 0);
    printf("shmat misaligned: %d errno %d\n", mis == (void *)-1, errno);
    char *rnd = shmat(id, spot + 0x1000, SHM_RND);
    printf("shmat SHM_RND: rounded down %d, sees '%s'\n", rnd == spot, rnd == (void *)-1 ? "" : rnd);
    printf("shmdt %d %d %d, again %d errno %d\n", shmdt(rnd), shmdt(q), shmdt(p), shmdt(p), errno);
    printf("IPC_RMID %d, then shmat fails %d\n", shmctl(id, IPC_RMID, NULL), shmat(id, NULL, 0) == (void *)-1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    semaphores();
    queues();
    shared_memory();
    return 0;
}
