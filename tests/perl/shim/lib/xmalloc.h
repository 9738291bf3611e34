#include <cyrus/xmalloc.h>
