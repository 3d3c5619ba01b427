/*
 * The packed format of the proc_blocks table (schema 7, proc-pack.c):
 * the identities of up to PROC_BLOCK_MAX consecutive processes in one
 * blob, each string said once per block and a new one built from an
 * older one's start and end. Knows nothing of SQLite, so it can be tested
 * and fuzzed alone.
 */
#ifndef GUA_PROC_PACK_H
#define GUA_PROC_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "store-pack.h"

/* The text fields of an identity, in the order a block holds them. */
enum proc_field {
	PROC_USER,
	PROC_COMM,
	PROC_CMDLINE,
	PROC_CONTAINER,
	PROC_POD,
	PROC_UNIT,
	PROC_SLURM_JOB,
	PROC_POD_NAMESPACE,
	PROC_POD_NAME,
	PROC_CONTAINER_NAME,
	PROC_FIELDS
};

/* A block holds at most this many processes (store-procs.c says it in
   SQL too) ... */
#define PROC_BLOCK_MAX		512
/* ... and is closed once its blob is this long, so that its row fits an
   8 KiB page: the writer rewrites its open block at each tick that adds
   a process. */
#define PROC_BLOCK_BYTES	7900

/* The strings of one field said so far in a block; [0] is "". */
struct proc_dict {
	uint32_t	off[PROC_BLOCK_MAX + 1];	/* into the arena */
	uint32_t	len[PROC_BLOCK_MAX + 1];
	size_t		n;
};

/* A block being written: its blob, and what the next entry is coded
   against. */
struct proc_packer {
	struct store_buf	 body;
	size_t			 n;		/* processes in it */
	int64_t			 prev_pid, prev_start, prev_uid;
	uint32_t		 prev_off[PROC_FIELDS];	/* its strings */
	int64_t			 start_min, start_max;	/* of its known
						   starts (not 0); 0 and 0 when
						   it has none */
	struct proc_dict	 dict[PROC_FIELDS];
	char			*arena;		/* the dictionaries' strings */
	size_t			 arena_len, arena_cap;
	struct proc_key {
		uint32_t	pid;
		int64_t		start_ms;
	}			 keys[PROC_BLOCK_MAX];
};

/* Empties p for a new block (keeping its memory). */
void	proc_packer_reset(struct proc_packer *);
void	proc_packer_free(struct proc_packer *);
/* Whether p takes no more processes. */
int	proc_packer_full(const struct proc_packer *);
/* Appends one process; p must not be full. 0, or -1 out of memory. */
int	proc_packer_add(struct proc_packer *, uint32_t pid, int64_t start_ms,
	    const struct identity *);
/* The index in p of the process (pid, start_ms), or -1. */
long	proc_packer_find(const struct proc_packer *, uint32_t pid,
	    int64_t start_ms);

/* A block read back. */
struct proc_block {
	int64_t			 first_id;	/* its processes' keys are
						   first_id ... + n - 1 */
	size_t			 n;
	int			 whole;		/* every field read, not only
						   the keys */
	struct proc_entry {
		uint32_t	pid;
		int64_t		start_ms;
		int		known;
		int64_t		uid;		/* -1 unknown */
		uint32_t	off[PROC_FIELDS];	/* into the arena */
	}			 e[PROC_BLOCK_MAX];
	struct proc_dict	 dict[PROC_FIELDS];
	char			*arena;
	size_t			 arena_len, arena_cap;
};

/*
 * Decodes the blob of the count processes from first_id into b (whose
 * memory is reused). 0, -1 for a damaged blob (b then holds nothing),
 * -2 out of memory.
 */
int	proc_block_decode(struct proc_block *, int64_t first_id, int64_t count,
	    const void *body, size_t len);
/* The same, reading only the fields a report groups by: an entry's
   command line and container name are "". */
int	proc_block_decode_keys(struct proc_block *, int64_t first_id,
	    int64_t count, const void *body, size_t len);
/* Field f of entry i, NUL-terminated. */
static inline const char *
proc_block_str(const struct proc_block *b, size_t i, enum proc_field f)
{
	return b->arena + b->e[i].off[f];
}
/* Entry i as a whole identity. */
void	proc_block_identity(const struct proc_block *, size_t i,
	    struct identity *);
void	proc_block_free(struct proc_block *);
/* Field f of an identity, and the room its array has. */
const char *proc_identity_field(const struct identity *, enum proc_field);
char	*proc_identity_field_buf(struct identity *, enum proc_field,
	    size_t *size);

#endif
