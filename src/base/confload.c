/*
 * confload — defaults, config file, .env, environment, command line
 * (see confload.h).
 */
#include "confload.h"

#include <stdio.h>

#include "alloc.h"

/* Reads a whole small text file; NULL if it cannot be read. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = xmalloc(CONFLOAD_MAX_FILE + 1);
    size_t n = fread(text, 1, CONFLOAD_MAX_FILE, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static void stage(confload_fn fn, void *arg, const struct conf *c, enum confload_source src, const char *path)
{
    if (fn)
        fn(arg, c, src, path);
}

int confload(struct conf *c, int argc, char **argv, confload_fn fn, void *arg, char *err, size_t errlen)
{
    int rc = -1;
    stage(fn, arg, c, CONFLOAD_DEFAULT, NULL);
    const char *path = conf_find_config_path(argc, argv);
    if (path) {
        char *text = read_text(path);
        if (!text) {
            snprintf(err, errlen, "invalid value for config: cannot read '%s'", path);
            goto out;
        }
        rc = conf_parse_file_text(c, text, path, err, errlen);
        xfree(text);
        if (rc < 0)
            goto out;
        stage(fn, arg, c, CONFLOAD_FILE, path);
    }
    char *dotenv = read_text(".env");
    if (dotenv) {
        rc = conf_parse_dotenv_text(c, dotenv, err, errlen);
        xfree(dotenv);
        if (rc < 0)
            goto out;
        stage(fn, arg, c, CONFLOAD_DOTENV, NULL);
    }
    rc = conf_apply_env(c, err, errlen);
    if (rc < 0)
        goto out;
    stage(fn, arg, c, CONFLOAD_ENV, NULL);
    rc = conf_parse_args(c, argc, argv, err, errlen);
    if (rc == 0)
        stage(fn, arg, c, CONFLOAD_ARGS, NULL);
out:
    return rc < 0 ? -1 : 0;
}
