/*
 * GPU labels: GPU-0, GPU-0#2 for a card that replaced another at the same
 * index, MIG instances by their parent; and --gpu, which reads a label, an
 * index or a UUID back to a GPU of the database; a GPU's memory for people.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "label.h"
#include "report-internal.h"
#include "util.h"

/* The card a GPU row is: its own UUID, or a MIG instance's parent's. */
static const char *
card_of(const struct store_gpu *g)
{
	return g->parent_uuid[0] != '\0' ? g->parent_uuid : g->uuid;
}

/*
 * Numbers every GPU row of a database by its card's place among the
 * cards that held its index, in the order the database first saw them
 * (by key): card[i] for all[i], 1 for the first. The labels GPU-0 and
 * GPU-0#2 come from it, and --gpu reads them back the same way.
 */
int
report_number_cards(const struct store_gpu *all, size_t n, int *card)
{
	int64_t *first = calloc(n + 1, sizeof(*first));

	if (first == NULL)
		return -1;
	/* The key of the first row of each row's card. */
	for (size_t i = 0; i < n; i++) {
		first[i] = all[i].id;
		for (size_t j = 0; j < n; j++)
			if (all[j].id < first[i] && strcmp(card_of(&all[j]),
			    card_of(&all[i])) == 0)
				first[i] = all[j].id;
	}
	for (size_t i = 0; i < n; i++) {
		card[i] = 1;
		for (size_t j = 0; j < n; j++)
			if (all[j].index == all[i].index &&
			    first[j] == all[j].id && first[j] < first[i])
				card[i]++;
	}
	free(first);
	return 0;
}

/*
 * The part of a label before any "/MIG-": "N", or "N#K" for the K-th card
 * that held index N. N in decimal without leading zeros, at most 4
 * digits, so that a UUID prefix such as "GPU-00000000" is never read as
 * one. 1 with *index and *card.
 */
static int
label_number(const char *s, size_t len, long long *index, long long *card)
{
	char num[16];
	const char *hash = memchr(s, '#', len);
	size_t n = hash ? (size_t)(hash - s) : len;

	*card = 1;
	if (n == 0 || n > 4 || (s[0] == '0' && n > 1) ||
	    strspn(s, "0123456789") < n)
		return 0;
	memcpy(num, s, n);
	num[n] = '\0';
	if (util_parse_ll(num, 0, 9999, index) != 0)
		return 0;
	if (hash == NULL)
		return 1;
	n = len - n - 1;
	if (n == 0 || n > 4 || hash[1] == '0' || strspn(hash + 1,
	    "0123456789") < n)
		return 0;
	memcpy(num, hash + 1, n);
	num[n] = '\0';
	return util_parse_ll(num, 1, 9999, card) == 0;
}

/*
 * A MIG instance as the report labels it, "GPU-0/MIG-c6d4" (or
 * "GPU-0#2/MIG-c6d4"): the part after "/MIG-", with *index and *card
 * set; NULL for any other form.
 */
static const char *
mig_label(const char *spec, long long *index, long long *card)
{
	const char *slash = strchr(spec, '/');

	if (strncasecmp(spec, "GPU-", 4) != 0 || slash == NULL ||
	    strncasecmp(slash, "/MIG-", 5) != 0 || slash[5] == '\0' ||
	    !label_number(spec + 4, (size_t)(slash - spec - 4), index, card))
		return NULL;
	return slash + 5;
}

/* Whether spec is a label "GPU-N" or "GPU-N#K" (any case) as the report
   prints it; *index is N, *card K (1 when absent). */
static int
gpu_label_index(const char *spec, long long *index, long long *card)
{
	if (strncasecmp(spec, "GPU-", 4) != 0)
		return 0;
	return label_number(spec + 4, strlen(spec + 4), index, card);
}

int
report_find_gpu(struct store *st, const char *spec, int64_t *gpu_id,
    char *err, size_t errlen)
{
	struct store_gpu *g;
	size_t n, hits = 0, migs = 0, len = strlen(spec);
	long long index = 0, want = 1;
	int numeric = util_parse_ll(spec, 0, 1000000, &index) == 0;
	int label = 0, *card;
	const char *mig = mig_label(spec, &index, &want);
	char cardtext[16] = "";

	if (len == 0)
		return util_err(err, errlen, "--gpu: empty GPU (give an index "
		    "or a UUID)");
	if (store_gpus(st, &g, &n, err, errlen) != 0)
		return -1;
	if ((card = calloc(n + 1, sizeof(*card))) == NULL ||
	    report_number_cards(g, n, card) != 0) {
		free(card);
		free(g);
		return util_err(err, errlen, "out of memory");
	}
	/*
	 * "GPU-3", the report's label, is index 3, not a prefix of the UUIDs
	 * starting "GPU-3" (real ones are "GPU-" and hex); only when no GPU
	 * has that index is it read as a UUID prefix.
	 */
	if (mig == NULL && !numeric && gpu_label_index(spec, &index, &want))
		for (size_t i = 0; i < n && !label; i++)
			label = g[i].index == index;
	for (size_t i = 0; i < n; i++) {
		int match;

		if (mig != NULL)
			match = g[i].index == index && card[i] == want &&
			    g[i].parent_uuid[0] != '\0' &&
			    strncasecmp(label_mig_name(g[i].uuid), mig,
			    strlen(mig)) == 0;
		else if (label)
			match = g[i].index == index && card[i] == want;
		else if (numeric)
			match = g[i].index == index;
		else
			match = strncasecmp(g[i].uuid, spec, len) == 0;
		if (match) {
			migs += g[i].parent_uuid[0] != '\0';
			/* An exact UUID wins over longer ones it prefixes. */
			if (!label && !numeric && strlen(g[i].uuid) == len) {
				hits = 1;
				*gpu_id = g[i].id;
				break;
			}
			hits++;
			*gpu_id = g[i].id;
		}
	}
	free(card);
	free(g);
	if (hits == 0)
		return util_err(err, errlen, "--gpu: no GPU '%s' in %s", spec,
		    store_path(st));
	if (want > 1)
		snprintf(cardtext, sizeof(cardtext), "#%d", (int)want);
	if (hits > 1 && (label || numeric) && migs == hits)
		util_err(err, errlen, "--gpu: GPU %lld%s is split into %zu MIG "
		    "instances in %s; name one as the report does "
		    "(GPU-%lld%s/MIG-...) or by its UUID", index, cardtext,
		    hits, store_path(st), index, cardtext);
	else if (hits > 1 && numeric)
		util_err(err, errlen, "--gpu: index %lld was held by %zu GPUs "
		    "in %s (a card replaced); name one as the report does "
		    "(GPU-%lld, GPU-%lld#2, ...) or by its UUID", index, hits,
		    store_path(st), index, index);
	else if (hits > 1)
		util_err(err, errlen, "--gpu: '%s' matches %zu GPUs in %s; "
		    "give more of the UUID", spec, hits, store_path(st));
	return hits > 1 ? REPORT_GPU_AMBIGUOUS : 0;
}

int
report_has_mig(const struct report *rep)
{
	for (size_t i = 0; i < rep->ngpus; i++)
		if (rep->gpus[i].info.parent_uuid[0] != '\0')
			return 1;
	return 0;
}

const char *
report_gpu_label(const struct report *rep, size_t gpu, char *buf,
    size_t len)
{
	const struct report_gpu *g = &rep->gpus[gpu];
	size_t chars = 0;

	/* Longer while another instance of the same GPU starts the same. */
	for (size_t i = 0; g->info.parent_uuid[0] != '\0' && i < rep->ngpus;
	    i++) {
		const struct report_gpu *h = &rep->gpus[i];

		if (i != gpu && h->host == g->host &&
		    strcmp(h->info.parent_uuid, g->info.parent_uuid) == 0)
			chars = label_mig_chars(g->info.uuid, h->info.uuid,
			    chars);
	}
	return label_gpu(buf, len, g->info.index, g->card, g->info.uuid,
	    g->info.parent_uuid, chars);
}

const char *
report_memory_format(int64_t mib, char *buf, size_t len)
{
	if (mib == MIB_UNKNOWN || mib <= 0)
		snprintf(buf, len, "%s", "");
	else if (mib % 1024 == 0)
		snprintf(buf, len, "%lld GiB", (long long)(mib / 1024));
	else
		snprintf(buf, len, "%.1f GiB", (double)mib / 1024);
	return buf;
}
