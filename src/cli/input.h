/*
 * input: the data and preprocessing options that score, analyze and eval
 * share, and opening a dataset + loader from them.
 */
#ifndef CSQ_CLI_INPUT_H
#define CSQ_CLI_INPUT_H

#include <stddef.h>

#include "data/source.h"
#include "nn/graph.h"

enum {
    OPT_LIST = 300, OPT_LABELS, OPT_PER_CLASS, OPT_SEED, OPT_BATCH, OPT_SKIP_BAD,
    OPT_MAX_PIXELS, OPT_RESIZE, OPT_CROP, OPT_MEAN, OPT_STD, OPT_THREADS = 'j'
};

#define CLI_INPUT_OPTIONS \
    { OPT_LIST, "list", 1, "FILE", "images from a list: path<TAB>class per line (- = stdin)" }, \
    { OPT_LABELS, "labels", 1, "FILE", "class names in the model's output order, one per line" }, \
    { OPT_PER_CLASS, "per-class", 1, "N", "use N images of each class" }, \
    { OPT_SEED, "seed", 1, "N", "draw --per-class images at random with this seed" }, \
    { OPT_BATCH, "batch", 1, "N", "images per forward pass (default 32)" }, \
    { OPT_THREADS, "threads", 1, "N", "threads (default: all cores)" }, \
    { OPT_SKIP_BAD, "skip-bad", 0, NULL, "warn about unreadable images and go on" }, \
    { OPT_MAX_PIXELS, "max-pixels", 1, "N", "refuse larger images (default 64M)" }, \
    { OPT_RESIZE, "resize", 1, "N", "resize the shorter side to N" }, \
    { OPT_CROP, "crop", 1, "H[xW]", "center crop (default: the model's input size)" }, \
    { OPT_MEAN, "mean", 1, "a,b,c", "subtract per channel (default ImageNet's)" }, \
    { OPT_STD, "std", 1, "a,b,c", "divide per channel (default ImageNet's)" }

struct cli_input {
    const char *cmd;
    struct csq_source_opts o;   /* filled by the options */
    long threads;               /* -j, 0 = all cores */
    struct csq_source src;      /* opened by cli_input_open */
    int opened;
};

void cli_input_init(struct cli_input *in, const char *cmd);
/* 1 if id was one of CLI_INPUT_OPTIONS (handled), 0 if not, -1 after a
 * usage message. */
int cli_input_option(struct cli_input *in, int id, const char *arg);
/* A positional argument: the image folder. -1 after a usage message. */
int cli_input_arg(struct cli_input *in, const char *arg);
/* The end of an image command's option switch: a positional argument is
 * the image folder, -h ends in success, anything else in a usage error.
 * -1: go on; otherwise the exit status. */
int cli_input_rest(struct cli_input *in, int id, const char *arg);
/* The model and the images every image command needs: 0, or EXIT_USAGE
 * after printing what is missing. */
int cli_input_check(const struct cli_input *in, const char *model);
/* Open the source for g (need_labels: classes required); a library status. */
int cli_input_open(struct cli_input *in, const struct csq_graph *g, int need_labels);
/* A second image source read as in is: same preprocessing and loader
 * settings, its own warnings. */
void cli_input_like(struct cli_input *second, const struct cli_input *in);
/* Say how many images a pass skipped (--skip-bad), if any. */
void cli_input_skipped(const struct cli_input *in, size_t skipped);
void cli_input_release(struct cli_input *in);

#endif
