/* SPDX-License-Identifier: MIT */
#include "lazylib.h"

#include <dlfcn.h>
#include <string.h>

#include "i18n.h"

bool cp_lazy_open(cp_lazy_lib *lib, cp_error **err)
{
	if (g_atomic_int_get(&lib->ready))
		return true;
	g_mutex_lock(&lib->lock);
	if (!lib->ready && !lib->failure) {
		/* RTLD_NOW: a missing function is found here, not at a call in
		 * the middle of a print job. Never closed: the tables point into
		 * it for the rest of the process. */
		void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			const char *why = dlerror();
			lib->failure = g_strdup(why ? why : lib->soname);
		} else {
			for (size_t i = 0; i < lib->n && !lib->failure; i++) {
				dlerror();
				void *sym = dlsym(h, lib->names[i]);
				if (!sym) {
					const char *why = dlerror();
					lib->failure = g_strdup_printf("%s: %s", lib->names[i],
					                               why ? why : "not found");
				} else {
					/* dlsym()'s object pointer into a function
					 * pointer's bytes (POSIX makes them the same) */
					memcpy((char *)lib->table + i * sizeof sym, &sym, sizeof sym);
				}
			}
			if (!lib->failure)
				g_atomic_int_set(&lib->ready, 1);
		}
	}
	bool ok = lib->ready;
	if (!ok)
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
		             _("%s needs the library %s, which cannot be used: %s"), _(lib->what),
		             lib->soname, lib->failure);
	g_mutex_unlock(&lib->lock);
	return ok;
}
