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

int confload(struct conf *c, int argc, char **argv, char *err, size_t errlen)
{
    int rc = -1;
    const char *path = conf_find_config_path(argc, argv);
    if (path) {
        c->source = CONFLOAD_FILE;
        char *text = read_text(path);
        if (!text) {
            snprintf(err, errlen, "invalid value for config: cannot read '%s'", path);
            goto out;
        }
        rc = conf_parse_file_text(c, text, path, err, errlen);
        xfree(text);
        if (rc < 0)
            goto out;
    }
    char *dotenv = read_text(".env");
    if (dotenv) {
        c->source = CONFLOAD_DOTENV;
        rc = conf_parse_dotenv_text(c, dotenv, err, errlen);
        xfree(dotenv);
        if (rc < 0)
            goto out;
    }
    c->source = CONFLOAD_ENV;
    rc = conf_apply_env(c, err, errlen);
    if (rc < 0)
        goto out;
    c->source = CONFLOAD_ARGS;
    rc = conf_parse_args(c, argc, argv, err, errlen);
out:
    return rc < 0 ? -1 : 0;
}
