/* test_npy.c — unit tests of the .npy reader/writer (io/npy.c) and of the
 * whole-file reader every other input goes through (io/file.c).
 *
 * Valid files come from numpy (tests/unit/data/npy/make_fixtures.py); the
 * expected values below are the ones that script saves, written out again
 * by hand.  Malformed files are built here byte by byte and read three ways:
 * from a regular file, from a pipe (size unknown up front) and from memory.
 * The writer is checked to reproduce np.save's bytes exactly. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "io/file.h"
#include "io/npy.h"
#include "ir/tensor.h"
#include "snnc.h"

/* ------------------------------------------------------------ helpers */

/* The fixture directory: $SNNC_NPY_FIXTURES, else next to this source file.
 * Meson passes __FILE__ relative to the build root, which is found from the
 * executable's own path (build/tests/test_npy), so any cwd works. */
static const char *fixture(const char *name)
{
    static char bufs[4][2048];
    static int next;
    char *b = bufs[next++ % 4];
    const char *env = getenv("SNNC_NPY_FIXTURES");
    if (env) {
        snprintf(b, sizeof bufs[0], "%s/%s", env, name);
        return b;
    }
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    int dirlen = slash ? (int)(slash - src) : 1;
    char root[1024] = ".";
    ssize_t n = src[0] == '/' ? -1 : readlink("/proc/self/exe", root, sizeof root - 1);
    if (n > 0) {
        root[n] = '\0';
        for (int up = 0; up < 2; up++) {
            char *cut = strrchr(root, '/');
            if (cut)
                *cut = '\0';
        }
    }
    snprintf(b, sizeof bufs[0], "%s%s%.*s/data/npy/%s", src[0] == '/' ? "" : root,
             src[0] == '/' ? "" : "/", dirlen, slash ? src : ".", name);
    return b;
}

static char tmpdir[64];

static void remove_tmpdir(void) { rmdir(tmpdir); }

static const char *tmp_path(const char *name)
{
    static char buf[2][256];
    static int next;
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/snnc_test_npy_XXXXXX");
        if (!mkdtemp(tmpdir))
            return "/nonexistent/tmp";
        atexit(remove_tmpdir);
    }
    char *b = buf[next++ % 2];
    snprintf(b, sizeof buf[0], "%s/%s", tmpdir, name);
    return b;
}

static int write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* Whole file into a malloc'd buffer; *n gets the size. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *b = malloc(1 << 16);
    *n = b ? fread(b, 1, 1 << 16, f) : 0;
    fclose(f);
    return b;
}

/* Read a fixture, asserting success, dtype and shape. */
static snnc_tensor *read_fixture(const char *name, snnc_dtype dtype, int rank, const int64_t *dims)
{
    snnc_err err = {0};
    snnc_tensor *t = NULL;
    int rc = snnc_npy_read(fixture(name), &t, &err);
    CU_ASSERT_EQUAL_FATAL(rc, SNNC_OK);
    if (rc != SNNC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    CU_ASSERT_EQUAL(t->dtype, dtype);
    CU_ASSERT_EQUAL(t->rank, rank);
    int64_t count = 1;
    for (int i = 0; i < rank && i < t->rank; i++) {
        CU_ASSERT_EQUAL(t->dims[i], dims[i]);
        count *= dims[i];
    }
    CU_ASSERT_EQUAL(t->count, count);
    return t;
}

/* Builds a .npy image: magic, version major.0, length field, the header
 * text verbatim, then `data`.  Returns the size. */
static size_t build(unsigned char *out, int major, const char *hdr, const void *data, size_t ndata)
{
    size_t hlen = strlen(hdr), n = 0;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)major;
    out[7] = 0;
    n = 8;
    int lensize = major == 1 ? 2 : 4;
    for (int i = 0; i < lensize; i++)
        out[n++] = (unsigned char)(hlen >> (8 * i));
    memcpy(out + n, hdr, hlen);
    n += hlen;
    if (ndata)
        memcpy(out + n, data, ndata);
    return n + ndata;
}

/* Read `bytes` through a pipe, so the reader cannot know the size. */
static int read_via_pipe(const void *bytes, size_t n, snnc_tensor **t, snnc_err *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    ssize_t w = n ? write(fds[1], bytes, n) : 0;
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    int rc = (w == (ssize_t)n) ? snnc_npy_read(path, t, err) : -1;
    close(fds[0]);
    return rc;
}

/* The image must be refused with `code` from a file (message naming the file
 * and containing `why`), from a pipe and from memory. */
static void expect_refused(const void *bytes, size_t n, int code, const char *why)
{
    const char *path = tmp_path("bad.npy");
    CU_ASSERT_EQUAL_FATAL(write_bytes(path, bytes, n), 0);
    snnc_err err = {0};
    snnc_tensor *t = (snnc_tensor *)1;
    int rc = snnc_npy_read(path, &t, &err);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(err.code, code);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
    if (rc != code || !strstr(err.msg, why))
        fprintf(stderr, "\n  expected %d '%s', got %d '%s'\n", code, why, rc, err.msg);
    unlink(path);

    snnc_err perr = {0};
    t = NULL;
    CU_ASSERT_EQUAL(read_via_pipe(bytes, n, &t, &perr), code);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(perr.msg, "/proc/self/fd/"));

    snnc_err berr = {0};
    t = NULL;
    CU_ASSERT_EQUAL(snnc_npy_read_buffer(bytes, n, "mem.npy", &t, &berr), code);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(berr.msg, "mem.npy: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(berr.msg, why));
}

static void expect_header_refused(const char *hdr, const void *data, size_t ndata, int code,
                                  const char *why)
{
    static unsigned char img[8192];
    expect_refused(img, build(img, 1, hdr, data, ndata), code, why);
}

/* Read an image from memory, expecting success. */
static snnc_tensor *read_image(const void *bytes, size_t n)
{
    snnc_err err = {0};
    snnc_tensor *t = NULL;
    int rc = snnc_npy_read_buffer(bytes, n, "mem.npy", &t, &err);
    CU_ASSERT_EQUAL(rc, SNNC_OK);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    return t;
}

/* ------------------------------------------------------------ valid files */

static const float f32_2x3[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};

static void test_read_each_dtype(void)
{
    snnc_tensor *t = read_fixture("f32_2x3.npy", SNNC_F32, 2, (int64_t[]){2, 3});
    if (t)
        CU_ASSERT_EQUAL(memcmp(t->data, f32_2x3, sizeof f32_2x3), 0);
    snnc_tensor_free(t);

    t = read_fixture("f64_3.npy", SNNC_F64, 1, (int64_t[]){3});
    if (t) {
        const double *d = t->data;
        CU_ASSERT(d[0] == 1.5 && d[1] == -2.25 && d[2] == 1e300);
    }
    snnc_tensor_free(t);

    t = read_fixture("i64_2x2.npy", SNNC_I64, 2, (int64_t[]){2, 2});
    if (t) {
        const int64_t *d = t->data;
        CU_ASSERT(d[0] == -((int64_t)1 << 62) && d[1] == 1 && d[2] == 2 &&
                  d[3] == (int64_t)1 << 40);
    }
    snnc_tensor_free(t);

    t = read_fixture("i32_4.npy", SNNC_I32, 1, (int64_t[]){4});
    if (t) {
        const int32_t *d = t->data;
        CU_ASSERT(d[0] == INT32_MIN && d[1] == -1 && d[2] == 0 && d[3] == INT32_MAX);
    }
    snnc_tensor_free(t);

    t = read_fixture("bool_5.npy", SNNC_BOOL, 1, (int64_t[]){5});
    if (t)
        CU_ASSERT_EQUAL(memcmp(t->data, (uint8_t[]){1, 0, 1, 1, 0}, 5), 0);
    snnc_tensor_free(t);

    t = read_fixture("u8_3x1.npy", SNNC_U8, 2, (int64_t[]){3, 1});
    if (t)
        CU_ASSERT_EQUAL(memcmp(t->data, (uint8_t[]){0, 127, 255}, 3), 0);
    snnc_tensor_free(t);
}

static void test_read_scalar_empty_rank8(void)
{
    snnc_tensor *t = read_fixture("scalar_f32.npy", SNNC_F32, 0, NULL);
    if (t)
        CU_ASSERT_EQUAL(snnc_f32(t)[0], 3.25f);
    snnc_tensor_free(t);

    t = read_fixture("empty_0x3.npy", SNNC_F32, 2, (int64_t[]){0, 3});
    snnc_tensor_free(t);

    t = read_fixture("i64_rank8.npy", SNNC_I64, 8, (int64_t[]){2, 2, 2, 2, 2, 2, 2, 2});
    if (t)
        for (int64_t i = 0; i < 256; i++)
            CU_ASSERT_EQUAL(snnc_i64(t)[i], i);
    snnc_tensor_free(t);
}

static void test_read_versions_2_and_3(void)
{
    const char *names[] = {"f32_2x3_v2.npy", "f32_2x3_v3.npy"};
    for (int i = 0; i < 2; i++) {
        snnc_tensor *t = read_fixture(names[i], SNNC_F32, 2, (int64_t[]){2, 3});
        if (t)
            CU_ASSERT_EQUAL(memcmp(t->data, f32_2x3, sizeof f32_2x3), 0);
        snnc_tensor_free(t);
    }
}

static void test_read_big_endian(void)
{
    snnc_tensor *t = read_fixture("be_f4.npy", SNNC_F32, 1, (int64_t[]){3});
    if (t)
        CU_ASSERT(snnc_f32(t)[0] == 1.0f && snnc_f32(t)[1] == -2.5f && snnc_f32(t)[2] == 0.125f);
    snnc_tensor_free(t);

    t = read_fixture("be_i8.npy", SNNC_I64, 1, (int64_t[]){2});
    if (t)
        CU_ASSERT(snnc_i64(t)[0] == -2 && snnc_i64(t)[1] == ((int64_t)1 << 40) + 3);
    snnc_tensor_free(t);

    t = read_fixture("be_f8_2x2.npy", SNNC_F64, 2, (int64_t[]){2, 2});
    if (t) {
        const double *d = t->data;
        CU_ASSERT(d[0] == 1.0 && d[1] == 2.0 && d[2] == -3.5 && d[3] == 1e-300);
    }
    snnc_tensor_free(t);
}

/* fortran_order True is transposed into C order on the way in. */
static void test_read_fortran_order(void)
{
    snnc_tensor *t = read_fixture("fortran_f32_2x3.npy", SNNC_F32, 2, (int64_t[]){2, 3});
    if (t)
        CU_ASSERT_EQUAL(memcmp(t->data, f32_2x3, sizeof f32_2x3), 0);
    snnc_tensor_free(t);

    /* np.arange(24).reshape(2, 3, 4): element [i][j][k] == 12i + 4j + k. */
    t = read_fixture("fortran_i32_2x3x4.npy", SNNC_I32, 3, (int64_t[]){2, 3, 4});
    if (t)
        for (int i = 0; i < 24; i++)
            CU_ASSERT_EQUAL(((int32_t *)t->data)[i], i);
    snnc_tensor_free(t);
}

/* Header variants numpy's own parser (ast.literal_eval) accepts. */
static void test_header_variants(void)
{
    static const char *hdrs[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{'shape':(2,3),'fortran_order':False,'descr':'<f4'}",
        "{ 'shape' : ( 2 , 3 , ) ,\n 'fortran_order' :\tFalse , \"descr\" : \"<f4\" }   \n",
        "{\"fortran_order\": False, \"descr\": \"<f4\", \"shape\": (2L, 3L)}",
        "{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3), }",
    };
    unsigned char img[512];
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        snnc_tensor *t = read_image(img, build(img, 1, hdrs[i], f32_2x3, sizeof f32_2x3));
        if (!t)
            continue;
        CU_ASSERT(t->dtype == SNNC_F32 && t->rank == 2 && t->dims[0] == 2 && t->dims[1] == 3);
        CU_ASSERT_EQUAL(memcmp(t->data, f32_2x3, sizeof f32_2x3), 0);
        snnc_tensor_free(t);
    }
    /* () is 0-d, (0,) is empty, (1,) is rank 1. */
    snnc_tensor *t = read_image(
        img, build(img, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': ( )}", f32_2x3, 4));
    if (t)
        CU_ASSERT(t->rank == 0 && t->count == 1 && snnc_f32(t)[0] == -1.0f);
    snnc_tensor_free(t);
    t = read_image(img,
                   build(img, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (0,)}", "", 0));
    if (t)
        CU_ASSERT(t->dtype == SNNC_I64 && t->rank == 1 && t->dims[0] == 0 && t->count == 0);
    snnc_tensor_free(t);
    /* A zero dim beside an absurd one: refused, since strides over the other
     * dims would overflow (ir/tensor.c snnc_shape_count). */
    {
        snnc_err err = {0};
        snnc_tensor *e = NULL;
        size_t n = build(img, 1, "{'descr': '<f8', 'fortran_order': True, "
                                 "'shape': (9223372036854775807, 0)}", "", 0);
        CU_ASSERT_NOT_EQUAL(snnc_npy_read_buffer(img, n, "mem.npy", &e, &err), SNNC_OK);
        CU_ASSERT_PTR_NULL(e);
    }
    /* Single-byte types take any byte-order mark; bool bytes become 0/1. */
    t = read_image(img, build(img, 3, "{'descr': '<b1', 'fortran_order': True, 'shape': (3,)}",
                              "\x00\x02\xff", 3));
    if (t)
        CU_ASSERT(t->dtype == SNNC_BOOL && !memcmp(t->data, "\x00\x01\x01", 3));
    snnc_tensor_free(t);
    t = read_image(img, build(img, 2, "{'descr': '>u1', 'fortran_order': False, 'shape': (2,)}",
                              "\x07\xfe", 2));
    if (t)
        CU_ASSERT(t->dtype == SNNC_U8 && !memcmp(t->data, "\x07\xfe", 2));
    snnc_tensor_free(t);
}

/* ------------------------------------------------------------ errors */

static void test_missing_file_and_directory(void)
{
    snnc_err err = {0};
    snnc_tensor *t = NULL;
    const char *path = "/nonexistent-dir/nothing.npy";
    CU_ASSERT_EQUAL(snnc_npy_read(path, &t, &err), SNNC_EIO);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, strerror(ENOENT)));

    snnc_err derr = {0};
    CU_ASSERT_EQUAL(snnc_npy_read("/tmp", &t, &derr), SNNC_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(derr.msg, "/tmp: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(derr.msg, strerror(EISDIR)));
}

static void test_bad_preamble(void)
{
    unsigned char img[64];
    expect_refused("", 0, SNNC_EINVALID, "empty file");
    expect_refused("hello, world\n", 13, SNNC_EINVALID, "bad magic");
    expect_refused("PK\x03\x04", 4, SNNC_EINVALID, "bad magic");
    expect_refused("\x93NUM", 4, SNNC_EINVALID, "truncated");
    expect_refused("\x93NUMPY\x01", 7, SNNC_EINVALID, "truncated");
    expect_refused("\x93NUMPY\x01\x00\x05", 9, SNNC_EINVALID, "truncated header length");
    expect_refused("\x93NUMPY\x02\x00\x05\x00\x00", 11, SNNC_EINVALID, "truncated header length");
    expect_refused("\x93NUMPY\x04\x00\x00\x00", 10, SNNC_EINVALID, "format version 4.0");
    expect_refused("\x93NUMPY\x01\x01\x00\x00", 10, SNNC_EINVALID, "format version 1.1");
    expect_refused("\x93NUMPY\x00\x00\x00\x00", 10, SNNC_EINVALID, "format version 0.0");
    /* Header length beyond the end of the file (v1 and v2). */
    size_t n = build(img, 1, "{'descr': '<f4'", NULL, 0);
    img[8] = 200;
    expect_refused(img, n, SNNC_EINVALID, "truncated header");
    n = build(img, 2, "{}", NULL, 0);
    memcpy(img + 8, "\xf0\xff\xff\xff", 4);
    expect_refused(img, n, SNNC_EINVALID, "truncated header");
    /* An empty header. */
    expect_refused(img, build(img, 1, "", NULL, 0), SNNC_EINVALID, "expected '{'");
}

static void test_bad_dict(void)
{
    static const struct {
        const char *hdr, *why;
    } cases[] = {
        {"[1, 2]", "expected '{'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "expected '}'"},
        {"{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}", "expected ':'"},
        {"{descr: '<f4', 'fortran_order': False, 'shape': (2,)}", "expected a quoted string"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", "expected '}'"},
        {"{'descr", "unterminated string"},
        {"{'descr': 'f\\x34', 'fortran_order': False, 'shape': (2,)}", "unsupported character"},
        {"{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", "True or False"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "True or False"},
        {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}", "True or False"},
        {"{'descr': '<f4', 'fortran_order': False}", "lacks the key 'shape'"},
        {"{'shape': (2,), 'fortran_order': False}", "lacks the key 'descr'"},
        {"{}", "lacks the key"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", "unexpected key 'x'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
         "duplicate key 'descr'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "after the dict"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}}", "after the dict"},
        {"{'descr': 5, 'fortran_order': False, 'shape': (2,)}", "expected a quoted string"},
        {"{'descr': '<x4', 'fortran_order': False, 'shape': (2,)}", "unknown dtype '<x4'"},
        {"{'descr': '<f', 'fortran_order': False, 'shape': (2,)}", "unknown dtype"},
        {"{'descr': '', 'fortran_order': False, 'shape': (2,)}", "unknown dtype"},
        {"{'descr': '<f4x', 'fortran_order': False, 'shape': (2,)}", "unknown dtype"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': 2}", "expected '('"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", "expected '('"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,,3)}", "expected a dimension"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", "expected a dimension"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", "expected ')'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", "expected ')'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}", "expected ')'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "negative dimension -1"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", "negative dimension -3"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
         "dimension too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536)}",
         "more than 2147483648 elements"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2147483649,)}", "more than"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1)}",
         "more than 8 dimensions"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_header_refused(cases[i].hdr, "", 0, SNNC_EINVALID, cases[i].why);
    /* NUL bytes inside and after the dict. */
    unsigned char img[256];
    size_t n = build(img, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}#", "\0\0\0\0", 4);
    img[n - 5] = 0;
    expect_refused(img, n, SNNC_EINVALID, "after the dict at offset 53");
    n = build(img, 1, "{'descr': '<f#', 'fortran_order': False, 'shape': ()}", "\0\0\0\0", 4);
    img[10 + 13] = 0;
    expect_refused(img, n, SNNC_EINVALID, "unsupported character");
}

static void test_bad_data_length(void)
{
    const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
    expect_header_refused(hdr, f32_2x3, 20, SNNC_EINVALID, "truncated data");
    expect_header_refused(hdr, f32_2x3, 0, SNNC_EINVALID, "truncated data");
    float more[7] = {0};
    expect_header_refused(hdr, more, 25, SNNC_EINVALID, "trailing bytes");
    expect_header_refused(hdr, more, 28, SNNC_EINVALID, "trailing bytes");
    expect_header_refused("{'descr': '<f8', 'fortran_order': False, 'shape': ()}", more, 4,
                          SNNC_EINVALID, "truncated data");
    expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3)}", more, 1,
                          SNNC_EINVALID, "trailing bytes");
    /* A real numpy file cut short or extended. */
    size_t n = 0;
    unsigned char *img = slurp(fixture("i64_2x2.npy"), &n);
    CU_ASSERT_FATAL(img && n == 160);
    expect_refused(img, n - 1, SNNC_EINVALID, "truncated data");
    expect_refused(img, 100, SNNC_EINVALID, "truncated header");
    img[n] = '\n';
    expect_refused(img, n + 1, SNNC_EINVALID, "trailing bytes");
    free(img);
}

static void test_unsupported_numpy_files(void)
{
    static const struct {
        const char *file;
        int code;
        const char *why;
    } cases[] = {
        {"f16_2.npy", SNNC_EUNSUPPORTED, "dtype '<f2' is not supported"},
        {"c64_2.npy", SNNC_EUNSUPPORTED, "dtype '<c8' is not supported"},
        {"struct_2.npy", SNNC_EUNSUPPORTED, "structured dtypes"},
        {"rank9.npy", SNNC_EINVALID, "more than 8 dimensions"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snnc_err err = {0};
        snnc_tensor *t = NULL;
        const char *path = fixture(cases[i].file);
        CU_ASSERT_EQUAL(snnc_npy_read(path, &t, &err), cases[i].code);
        CU_ASSERT_PTR_NULL(t);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].why));
    }
    expect_header_refused("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': ()}", "", 0,
                          SNNC_EUNSUPPORTED, "not supported");
    expect_header_refused("{'descr': '|i1', 'fortran_order': False, 'shape': ()}", "", 0,
                          SNNC_EUNSUPPORTED, "not supported");
}

/* ------------------------------------------------------------ writer */

/* Reading a numpy file and writing it back must give np.save's bytes. */
static void check_rewrite(const char *read_name, const char *expect_name)
{
    snnc_err err = {0};
    snnc_tensor *t = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_npy_read(fixture(read_name), &t, &err), SNNC_OK);
    const char *out = tmp_path("out.npy");
    CU_ASSERT_EQUAL(snnc_npy_write(out, t, &err), SNNC_OK);
    size_t na, nb;
    unsigned char *a = slurp(out, &na), *b = slurp(fixture(expect_name), &nb);
    CU_ASSERT_FATAL(a && b);
    CU_ASSERT_EQUAL(na, nb);
    CU_ASSERT(na == nb && memcmp(a, b, na) == 0);
    if (na != nb || memcmp(a, b, na))
        fprintf(stderr, "\n  %s rewritten differs from %s\n", read_name, expect_name);
    /* and it reads back to the same tensor */
    snnc_tensor *r = NULL;
    CU_ASSERT_EQUAL(snnc_npy_read(out, &r, &err), SNNC_OK);
    if (r) {
        CU_ASSERT(r->dtype == t->dtype && snnc_same_shape(r, t) && r->count == t->count);
        CU_ASSERT_EQUAL(memcmp(r->data, t->data, (size_t)t->count * snnc_dtype_size(t->dtype)),
                        0);
    }
    snnc_tensor_free(r);
    snnc_tensor_free(t);
    free(a);
    free(b);
    unlink(out);
}

static void test_write_matches_numpy(void)
{
    static const char *same[] = {"f32_2x3.npy",    "f64_3.npy",      "i64_2x2.npy",
                                 "i32_4.npy",      "bool_5.npy",     "u8_3x1.npy",
                                 "scalar_f32.npy", "empty_0x3.npy",  "i64_rank8.npy"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        check_rewrite(same[i], same[i]);
    /* Other versions and Fortran order are written as plain 1.0 C order. */
    check_rewrite("f32_2x3_v2.npy", "f32_2x3.npy");
    check_rewrite("f32_2x3_v3.npy", "f32_2x3.npy");
    check_rewrite("fortran_f32_2x3.npy", "f32_2x3.npy");
}

/* Tensors built here survive write + read unchanged, in every dtype. */
static void test_roundtrip(void)
{
    static const snnc_dtype types[] = {SNNC_F32, SNNC_F64, SNNC_I32, SNNC_I64, SNNC_U8, SNNC_BOOL};
    static const struct {
        int rank;
        int64_t dims[SNNC_MAX_RANK];
    } shapes[] = {{0, {0}}, {1, {7}}, {2, {0, 3}}, {3, {2, 1, 5}}, {8, {1, 2, 1, 3, 1, 2, 1, 2}},
                  {1, {1000}}};
    for (size_t d = 0; d < sizeof types / sizeof types[0]; d++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            snnc_err err = {0};
            snnc_tensor *t = snnc_tensor_new(types[d], shapes[s].rank, shapes[s].dims, &err);
            CU_ASSERT_PTR_NOT_NULL_FATAL(t);
            size_t nbytes = (size_t)t->count * snnc_dtype_size(t->dtype);
            for (size_t i = 0; i < nbytes; i++)
                ((uint8_t *)t->data)[i] = (uint8_t)(i * 37 + 11);
            if (types[d] == SNNC_BOOL)
                for (int64_t i = 0; i < t->count; i++)
                    snnc_u8(t)[i] = (uint8_t)(i % 3 == 0);
            const char *out = tmp_path("rt.npy");
            CU_ASSERT_EQUAL(snnc_npy_write(out, t, &err), SNNC_OK);
            snnc_tensor *r = NULL;
            CU_ASSERT_EQUAL(snnc_npy_read(out, &r, &err), SNNC_OK);
            CU_ASSERT_PTR_NOT_NULL(r);
            if (r) {
                CU_ASSERT(r->dtype == t->dtype && snnc_same_shape(r, t) && r->count == t->count);
                CU_ASSERT(nbytes == 0 || memcmp(r->data, t->data, nbytes) == 0);
                /* numpy aligns the data to 64 bytes */
                struct stat st;
                CU_ASSERT(stat(out, &st) == 0 && (st.st_size - (off_t)nbytes) % 64 == 0);
            }
            snnc_tensor_free(r);
            snnc_tensor_free(t);
            unlink(out);
        }
    }
}

static void test_write_errors(void)
{
    snnc_err err = {0};
    snnc_tensor *t = snnc_tensor_new(SNNC_F32, 1, (int64_t[]){3}, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    const char *path = "/nonexistent-dir/out.npy";
    CU_ASSERT_EQUAL(snnc_npy_write(path, t, &err), SNNC_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, strerror(ENOENT)));

    snnc_err e2 = {0};
    CU_ASSERT_EQUAL(snnc_npy_write("/tmp", t, &e2), SNNC_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "/tmp: "));

    /* An inconsistent tensor is refused before the file is created. */
    snnc_err e3 = {0};
    const char *out = tmp_path("never.npy");
    t->count = 4;
    CU_ASSERT_EQUAL(snnc_npy_write(out, t, &e3), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e3.msg, out));
    CU_ASSERT_NOT_EQUAL(access(out, F_OK), 0);
    t->count = 3;
    snnc_err e4 = {0};
    t->dtype = SNNC_DTYPE_UNKNOWN;
    CU_ASSERT_EQUAL(snnc_npy_write(out, t, &e4), SNNC_EINVALID);
    t->dtype = SNNC_F32;
    snnc_tensor_free(t);
}

/* Valid data arriving through a pipe (size unknown until EOF). */
static void test_read_from_pipe(void)
{
    size_t n = 0;
    unsigned char *img = slurp(fixture("fortran_f32_2x3.npy"), &n);
    CU_ASSERT_FATAL(img != NULL);
    snnc_err err = {0};
    snnc_tensor *t = NULL;
    CU_ASSERT_EQUAL(read_via_pipe(img, n, &t, &err), SNNC_OK);
    if (t)
        CU_ASSERT(t->rank == 2 && !memcmp(t->data, f32_2x3, sizeof f32_2x3));
    snnc_tensor_free(t);
    free(img);
}


/* ------------------------------------------------------------ io/file.c */

/* snnc_read_file on `path`: the status, and (when not OK) a message naming
 * the path and saying `why`. */
static int read_file_expect(const char *path, size_t limit, unsigned expect, int code,
                            const char *why, void **data, size_t *size)
{
    snnc_err err = {0};
    int rc = snnc_read_file(path, limit, expect, data, size, &err);
    CU_ASSERT_EQUAL(rc, code);
    if (rc != SNNC_OK) {
        CU_ASSERT_PTR_NULL(*data);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
        CU_ASSERT_PTR_NOT_NULL(why ? strstr(err.msg, why) : err.msg);
    }
    if (rc != code || (rc && why && !strstr(err.msg, why)))
        fprintf(stderr, "\n  %s: expected %d '%s', got %d '%s'\n", path, code, why, rc, err.msg);
    return rc;
}

static void test_read_file_limits(void)
{
    unsigned char bytes[100];
    for (int i = 0; i < 100; i++)
        bytes[i] = (unsigned char)(i + 1);
    const char *path = tmp_path("f.bin");
    CU_ASSERT_EQUAL_FATAL(write_bytes(path, bytes, sizeof bytes), 0);
    void *d = NULL;
    size_t n = 0;
    if (!read_file_expect(path, 100, 0, SNNC_OK, NULL, &d, &n)) { /* exactly the limit */
        CU_ASSERT_EQUAL(n, 100);
        CU_ASSERT(!memcmp(d, bytes, 100) && ((char *)d)[100] == '\0');
        free(d);
    }
    read_file_expect(path, 99, 0, SNNC_ENOMEM, "larger than 99 bytes", &d, &n);
    /* a device has no size: the limit still bounds what is read */
    read_file_expect("/dev/zero", 1000, 0, SNNC_ENOMEM, "larger than 1000 bytes", &d, &n);
    read_file_expect("/tmp", 1000, 0, SNNC_EIO, strerror(EISDIR), &d, &n);
    read_file_expect("/nonexistent-dir/x", 1000, 0, SNNC_EIO, strerror(ENOENT), &d, &n);
    unlink(path);
}

static void test_read_file_kinds(void)
{
    void *d = NULL;
    size_t n = 0;
    /* /dev/zero is neither text nor protobuf: refused at the first bytes */
    read_file_expect("/dev/zero", (size_t)1 << 40, SNNC_BYTES_TEXT, SNNC_EINVALID,
                     "line 1, column 1: a NUL byte (byte 0)", &d, &n);
    read_file_expect("/dev/zero", (size_t)1 << 40, SNNC_BYTES_PROTOBUF, SNNC_EINVALID,
                     "not a protobuf message (byte 0 is 0x00)", &d, &n);
    read_file_expect("/dev/zero", (size_t)1 << 40, SNNC_BYTES_NPY | SNNC_BYTES_PROTOBUF,
                     SNNC_EINVALID, "not a .npy file nor a protobuf message (byte 0 is 0x00)", &d,
                     &n);
    const char *path = tmp_path("k.bin");
    CU_ASSERT_EQUAL_FATAL(write_bytes(path, "ab\0c", 4), 0);
    read_file_expect(path, 100, SNNC_BYTES_TEXT, SNNC_EINVALID, "line 1, column 3: a NUL byte (byte 2)", &d, &n);
    /* a tag is field << 3 | wire type: field 1 type 0 (0x08) is one, 0x07
     * (field 0) and 0x0e (type 6) are not */
    CU_ASSERT_EQUAL_FATAL(write_bytes(path, "\x08\x00", 2), 0);
    if (!read_file_expect(path, 100, SNNC_BYTES_PROTOBUF, SNNC_OK, NULL, &d, &n))
        free(d);
    /* not text, but protobuf: accepted when either is */
    if (!read_file_expect(path, 100, SNNC_BYTES_TEXT | SNNC_BYTES_PROTOBUF, SNNC_OK, NULL, &d, &n))
        free(d);
    CU_ASSERT_EQUAL_FATAL(write_bytes(path, "\x07\x01", 2), 0);
    read_file_expect(path, 100, SNNC_BYTES_PROTOBUF, SNNC_EINVALID, "0x07", &d, &n);
    CU_ASSERT_EQUAL_FATAL(write_bytes(path, "\x0e\x01", 2), 0);
    read_file_expect(path, 100, SNNC_BYTES_PROTOBUF, SNNC_EINVALID, "0x0e", &d, &n);
    if (!read_file_expect(path, 100, SNNC_BYTES_TEXT | SNNC_BYTES_PROTOBUF, SNNC_OK, NULL, &d, &n))
        free(d); /* no NUL: text */
    unlink(path);
}

/* A pipe fed by a child process with more than one buffer's worth: every
 * byte arrives, in order, with no size known up front. */
static void test_read_file_pipe(void)
{
    enum { N = 300000 };
    int fds[2];
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        unsigned char b[1000];
        for (int k = 0; k < N / 1000; k++) {
            for (int i = 0; i < 1000; i++)
                b[i] = (unsigned char)((k * 1000 + i) % 251);
            if (write(fds[1], b, sizeof b) != (ssize_t)sizeof b)
                _exit(1);
        }
        _exit(0);
    }
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    void *d = NULL;
    size_t n = 0;
    if (!read_file_expect(path, N, 0, SNNC_OK, NULL, &d, &n)) {
        CU_ASSERT_EQUAL(n, N);
        int bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += ((unsigned char *)d)[i] != (unsigned char)(i % 251);
        CU_ASSERT_EQUAL(bad, 0);
        free(d);
    }
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
}

static CU_TestInfo tests[] = {
    {"read each dtype", test_read_each_dtype},
    {"read 0-d, empty, rank 8", test_read_scalar_empty_rank8},
    {"read versions 2.0 and 3.0", test_read_versions_2_and_3},
    {"read big-endian", test_read_big_endian},
    {"read fortran order", test_read_fortran_order},
    {"header variants", test_header_variants},
    {"read from a pipe", test_read_from_pipe},
    {"missing file, directory", test_missing_file_and_directory},
    {"bad preamble", test_bad_preamble},
    {"bad header dict", test_bad_dict},
    {"bad data length", test_bad_data_length},
    {"unsupported numpy files", test_unsupported_numpy_files},
    {"write matches np.save", test_write_matches_numpy},
    {"write/read roundtrip", test_roundtrip},
    {"write errors", test_write_errors},
    {"io/file.c: limits, devices, directories", test_read_file_limits},
    {"io/file.c: text and protobuf checks", test_read_file_kinds},
    {"io/file.c: a pipe of several buffers", test_read_file_pipe},
    CU_TEST_INFO_NULL,
};
SNNC_TEST_MAIN("npy")
