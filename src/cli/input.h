/*
 * input: the data and preprocessing options that score, analyze and eval
 * share, and opening a dataset + loader from them.
 */
#ifndef CSQ_CLI_INPUT_H
#define CSQ_CLI_INPUT_H

#include <stddef.h>

#include "data/dataset.h"
#include "data/loader.h"
#include "data/modelprep.h"
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
    const char *dir;
    const char *list;
    const char *labels;
    long per_class;
    int seeded;
    unsigned long long seed;
    long batch;
    long threads;
    int skip_bad;
    struct csq_prep_request prep;
    /* opened by cli_input_open */
    struct csq_dataset ds;
    struct csq_image_prep ip;
    struct csq_loader *loader;
    int have_ds;
};

void cli_input_init(struct cli_input *in, const char *cmd);
/* 1 if id was one of CLI_INPUT_OPTIONS (handled), 0 if not, -1 after a
 * usage message. */
int cli_input_option(struct cli_input *in, int id, const char *arg);
/* A positional argument: the image folder. -1 after a usage message. */
int cli_input_arg(struct cli_input *in, const char *arg);
/* The model and the images every image command needs: 0, or EXIT_USAGE
 * after printing what is missing. */
int cli_input_check(const struct cli_input *in, const char *model);
/* Scan the dataset (need_labels: classes required) and resolve the
 * preprocessing for g; a library status. */
int cli_input_scan(struct cli_input *in, const struct csq_graph *g, int need_labels);
/* Open a loader over the scanned dataset (may be called again after
 * cli_input_close_loader for a second pass). */
int cli_input_open_loader(struct cli_input *in);
void cli_input_close_loader(struct cli_input *in);
void cli_input_release(struct cli_input *in);
/* Progress callback for csq_feed (prints only to a terminal, not with -q). */
void cli_input_progress(void *in, size_t done);
void cli_input_progress_end(struct cli_input *in);

#endif
