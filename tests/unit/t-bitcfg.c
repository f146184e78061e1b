/* bitcfg: exact tsv text for a hand-made config, tsv / json / list round
 * trips, reader errors; sha256 against the FIPS 180-4 example vectors. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpq/bitcfg.h"
#include "tap.h"
#include "util/err.h"
#include "util/file.h"
#include "util/sha256.h"

static char dir[] = "/tmp/t-bitcfg-XXXXXX";

static char *path(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static char *slurp(const char *p)
{
    unsigned char *b;
    size_t n;
    return csq_file_read(p, &b, &n) == 0 ? (char *)b : NULL;
}

static void spit(const char *p, const char *text)
{
    FILE *fp = fopen(p, "wb");
    fputs(text, fp);
    fclose(fp);
}

static void sha_vectors(void)
{
    char hex[65], *big;
    struct csq_sha256 c;
    unsigned char d[32];
    int i;

    csq_sha256_hex("", 0, hex);
    ok(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
       "sha256 of the empty string");
    csq_sha256_hex("abc", 3, hex);
    ok(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
       "sha256 of 'abc'");
    csq_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
    ok(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0,
       "sha256 of the 448-bit message");
    /* a million 'a' fed in uneven pieces exercises the block buffer */
    big = malloc(1000000);
    memset(big, 'a', 1000000);
    csq_sha256_init(&c);
    for (i = 0; i < 1000000; i += 7919)
        csq_sha256_update(&c, big + i, (size_t)(1000000 - i < 7919 ? 1000000 - i : 7919));
    csq_sha256_final(&c, d);
    for (i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
    ok(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
       "sha256 of a million 'a' in pieces");
    free(big);
    spit(path("abc.bin"), "abc");
    ok(csq_sha256_file(path("abc.bin"), hex) == 0
       && strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
       "sha256 of a file");
    csq_errclear();
    is_int(csq_sha256_file(path("missing"), hex), CSQ_EIO, "sha256 of a missing file");
}

static struct csq_bitcfg_layer rows[2] = {
    {"conv1", 8, 8, 9408, 118013952, 0.01322, "/conv1/Conv"},
    {"layer1.0.conv1", 4, 8, 36864, 115605504, 0.01361, "/layer1/layer1.0/conv1/Conv"},
};

/* size = 9408*8 + 36864*4 = 222720 bits = 27840 bytes = 27.1875 KiB;
 * bops = 118013952*8*8 + 115605504*4*8 = 11252269056 = 11.3G;
 * mean = 222720 / 46272 = 4.813... */
static const char want_tsv[] =
    "# csmpq bitcfg 1\n"
    "# model: resnet18.onnx sha256=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
    "# budget: size<=32.00KiB; achieved size=27.19KiB bops=11.3G mean_wbits=4.81\n"
    "# solver: proven optimal\n"
    "#layer\twbits\tabits\tparams\tmacs\tscore\tnode\n"
    "conv1\t8\t8\t9408\t118013952\t0.01322\t/conv1/Conv\n"
    "layer1.0.conv1\t4\t8\t36864\t115605504\t0.01361\t/layer1/layer1.0/conv1/Conv\n";

static int same_layers(const struct csq_bitcfg *a, const struct csq_bitcfg *b)
{
    int l;

    if (a->nlayers != b->nlayers)
        return 0;
    for (l = 0; l < a->nlayers; l++) {
        const struct csq_bitcfg_layer *x = &a->layers[l], *y = &b->layers[l];
        if (strcmp(x->name, y->name) || x->wbits != y->wbits || x->abits != y->abits
            || x->params != y->params || x->macs != y->macs || x->score != y->score
            || strcmp(x->node ? x->node : "", y->node ? y->node : ""))
            return 0;
    }
    return 1;
}

static void write_read(void)
{
    struct csq_bitcfg c = {"resnet18.onnx",
                           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                           "size<=32.00KiB", "proven optimal", 2, rows};
    struct csq_bitcfg *r = NULL;
    char *text;
    enum csq_bitcfg_format f;
    static struct csq_bitcfg_layer odd[1] = {
        {"name \"quoted\"\\x", 3, 8, 1, 2, 1.0 / 3.0, NULL}};
    struct csq_bitcfg oc = {NULL, NULL, NULL, NULL, 1, odd};

    ok(csq_bitcfg_write(&c, path("a.tsv"), CSQ_BITCFG_TSV) == 0, "write tsv");
    text = slurp(path("a.tsv"));
    ok(text && strcmp(text, want_tsv) == 0, "tsv text is exactly the hand-written one");
    if (text && strcmp(text, want_tsv) != 0)
        diag("got:\n%s", text);
    free(text);
    ok(csq_bitcfg_read(path("a.tsv"), &r) == 0, "read tsv back");
    ok(r && same_layers(&c, r), "tsv round trip keeps every layer field");
    ok(r && r->model && strcmp(r->model, "resnet18.onnx") == 0 && r->sha256
       && strcmp(r->sha256, c.sha256) == 0 && r->budget && strcmp(r->budget, c.budget) == 0
       && r->solver && strcmp(r->solver, "proven optimal") == 0, "tsv round trip keeps header");
    csq_bitcfg_free(r);

    ok(csq_bitcfg_write(&c, path("a.json"), CSQ_BITCFG_JSON) == 0, "write json");
    ok(csq_bitcfg_read(path("a.json"), &r) == 0, "read json back");
    ok(r && same_layers(&c, r) && strcmp(r->model, "resnet18.onnx") == 0, "json round trip");
    csq_bitcfg_free(r);

    ok(csq_bitcfg_write(&oc, path("odd.json"), CSQ_BITCFG_JSON) == 0
       && csq_bitcfg_read(path("odd.json"), &r) == 0 && strcmp(r->layers[0].name, odd[0].name) == 0
       && r->layers[0].score == 1.0 / 3.0 && !r->model, "json escapes and 1/3 round trip");
    csq_bitcfg_free(r);

    ok(csq_bitcfg_write(&c, path("a.list"), CSQ_BITCFG_LIST) == 0, "write list");
    text = slurp(path("a.list"));
    ok(text && strcmp(text, "[8, 4]\n") == 0, "list text");
    free(text);
    ok(csq_bitcfg_read(path("a.list"), &r) == 0 && r->nlayers == 2 && r->layers[0].wbits == 8
       && r->layers[1].wbits == 4 && !r->layers[0].name, "a list reads as unnamed widths");
    csq_bitcfg_free(r);

    /* a hand edit: reordered keys, extra key, unicode escape, no node */
    spit(path("hand.json"), "{\"layers\": [\n {\"wbits\": 5, \"name\": \"c\\u00e9\", \"x\": [1, {}]},\n"
                            "  {\"name\": \"fc\", \"wbits\": 2, \"abits\": 8, \"score\": -1.5e-3}\n],\n"
                            " \"model\": null, \"ok\": true}\n");
    ok(csq_bitcfg_read(path("hand.json"), &r) == 0 && r->nlayers == 2
       && strcmp(r->layers[0].name, "c\xc3\xa9") == 0 && r->layers[1].score == -1.5e-3
       && r->layers[1].abits == 8, "hand-edited json");
    csq_bitcfg_free(r);

    ok(csq_bitcfg_parse_format("json", &f) == 0 && f == CSQ_BITCFG_JSON, "format json");
    csq_errclear();
    is_int(csq_bitcfg_parse_format("yaml", &f), CSQ_EUSAGE, "format yaml refused");
}

static void read_errors(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"{\"layers\": [\n{\"name\": \"a\", \"wbits\": 17}]}", "line 2"},
        {"{\"layers\": [\n{\"name\": \"a\",\n \"wbits\": 4,}]}", "line 3"},
        {"{\"layers\": [{\"name\": \"a\", \"wbits\": 4}]} x", "after the end"},
        {"{\"layers\": [{\"name\": \"a\n\", \"wbits\": 4}]}", "unterminated"},
        {"{\"model\": \"m\"}", "no \"layers\""},
        {"#layer\twbits\tabits\tparams\tmacs\tscore\tnode\na\t4\t8\t1\t1\t0.5\tn\na\t3\t8\t1\t1\t0.5\tn\n",
         "listed twice"},
        {"#layer\twbits\tabits\tparams\tmacs\tscore\tnode\na\t4\t8\t1\n", "line 2"},
        {"#layer\twbits\tabits\tparams\tmacs\tscore\tnode\n\na\tfour\t8\t1\t1\t0.5\tn\n", "line 3"},
        {"#layer\twbits\tabits\tparams\tmacs\tscore\tnode\na\t4\t8\t1\t1\tzz\tn\n", "'zz'"},
        {"a\t4\t8\t1\t1\t0.5\tn\n", "line 1"},
        {"#layer\twbits\tabits\tparams\tmacs\tscore\tnode\n", "no layers"},
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct csq_bitcfg *r = NULL;
        int rc;
        spit(path("bad"), bad[i].text);
        csq_errclear();
        rc = csq_bitcfg_read(path("bad"), &r);
        ok(rc == CSQ_EFORMAT && strstr(csq_errmsg(), bad[i].want) && strstr(csq_errmsg(), dir)
           && !r, "bad config %zu: %s", i, csq_errmsg());
    }
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    sha_vectors();
    write_read();
    read_errors();
    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            diag("could not remove %s", dir);
    }
    return tap_done();
}
