/*
 * GPU and MIG labels as every output prints them: "GPU-0", and for a MIG
 * instance "GPU-0/MIG-c6d4", the start of its name long enough to tell it
 * from the other instances of its GPU. The collector's --foreground line
 * and the reports use these, so an admin reads one name everywhere.
 */
#ifndef GUA_LABEL_H
#define GUA_LABEL_H

#include <stddef.h>

/* The part of a MIG instance's UUID that names it: after "MIG-", or for
   the old "MIG-GPU-<uuid>/GI/CI" form, "GI/CI". */
const char	*label_mig_name(const char *uuid);
/* Characters of uuid's MIG name needed to tell it from other's, given
   that chars already are: one past what the two share, at least chars. */
size_t		 label_mig_chars(const char *uuid, const char *other,
		    size_t chars);
/* The label into buf: a GPU when parent_uuid is "", else a MIG instance
   shown with mig_chars characters of its name (at least 4); card above 1
   is the card's number in its slot, "GPU-0#2" for the second card a
   history saw at index 0. */
char		*label_gpu(char *buf, size_t len, int index, int card,
		    const char *uuid, const char *parent_uuid, size_t mig_chars);

#endif
