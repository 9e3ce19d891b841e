/* test_tensor.c — tensors: element counts checked before allocating,
 * conversions between stored and compute types, shape strings. */
#include <string.h>

#include "harness.h"
#include "ir/tensor.h"

static void test_shape_count(void)
{
    int64_t a[] = {2, 3, 4}, zero[] = {5, 0, 7}, zero_huge[] = {0, (int64_t)1 << 40, (int64_t)1 << 40}, neg[] = {2, -1};
    int64_t huge[] = {(int64_t)1 << 40, (int64_t)1 << 40}, over[] = {(int64_t)1 << 31, 16};
    CU_ASSERT_EQUAL(snnc_shape_count(3, a), 24);
    CU_ASSERT_EQUAL(snnc_shape_count(0, a), 1);            /* scalar */
    CU_ASSERT_EQUAL(snnc_shape_count(3, zero), 0);
    /* empty, but strides over the other dims would overflow: refused */
    CU_ASSERT_EQUAL(snnc_shape_count(3, zero_huge), -1);
    CU_ASSERT_EQUAL(snnc_shape_count(2, neg), -1);
    CU_ASSERT_EQUAL(snnc_shape_count(2, huge), -1);        /* 2^80 overflows int64 */
    CU_ASSERT_EQUAL(snnc_shape_count(2, over), -1);        /* 2^35 > SNNC_MAX_ELEMENTS */
}

static void test_new_refuses_absurd(void)
{
    snnc_err err = {0};
    int64_t huge[] = {(int64_t)1 << 40, (int64_t)1 << 40};
    CU_ASSERT_PTR_NULL(snnc_tensor_new(SNNC_F32, 2, huge, &err));
    CU_ASSERT_EQUAL(err.code, SNNC_ENOMEM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "exceeds"));
    snnc_err e2 = {0};
    int64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CU_ASSERT_PTR_NULL(snnc_tensor_new(SNNC_F32, 9, dims, &e2));
    CU_ASSERT_EQUAL(e2.code, SNNC_EUNSUPPORTED);
    /* 2^30 float64 elements = 8 GiB: within the element limit, over the byte limit */
    snnc_err e3 = {0};
    int64_t big[] = {(int64_t)1 << 30};
    CU_ASSERT_PTR_NULL(snnc_tensor_new(SNNC_F64, 1, big, &e3));
    CU_ASSERT_EQUAL(e3.code, SNNC_ENOMEM);
    CU_ASSERT_PTR_NOT_NULL(strstr(e3.msg, "GiB limit"));
}

static void test_convert(void)
{
    snnc_err err = {0};
    int64_t dims[] = {4};
    snnc_tensor *d = snnc_tensor_new(SNNC_F64, 1, dims, &err);
    double v[] = {1.5, -2.25, 0.0, 1e10};
    memcpy(d->data, v, sizeof v);
    snnc_tensor *f = snnc_tensor_convert(d, SNNC_F32, &err);
    CU_ASSERT_EQUAL(f->dtype, SNNC_F32);
    CU_ASSERT_EQUAL(snnc_f32(f)[1], -2.25f);
    CU_ASSERT_EQUAL(snnc_f32(f)[3], 1e10f);
    snnc_tensor *b = snnc_tensor_convert(d, SNNC_BOOL, &err);
    CU_ASSERT_EQUAL(snnc_u8(b)[0], 1);
    CU_ASSERT_EQUAL(snnc_u8(b)[2], 0);
    snnc_tensor *i = snnc_tensor_convert(d, SNNC_I64, &err);
    CU_ASSERT_EQUAL(snnc_i64(i)[1], -2); /* C conversion truncates toward zero */
    CU_ASSERT_EQUAL(snnc_compute_dtype(SNNC_F64), SNNC_F32);
    CU_ASSERT_EQUAL(snnc_compute_dtype(SNNC_I32), SNNC_I64);
    CU_ASSERT_EQUAL(snnc_compute_dtype(SNNC_U8), SNNC_I64);
    CU_ASSERT_EQUAL(snnc_compute_dtype(SNNC_BOOL), SNNC_BOOL);
    snnc_tensor_free(d), snnc_tensor_free(f), snnc_tensor_free(b), snnc_tensor_free(i);
}

static void test_dims_str(void)
{
    char buf[64];
    int64_t dims[] = {2, 30, 4};
    CU_ASSERT_STRING_EQUAL(snnc_dims_str(3, dims, buf, sizeof buf), "[2,30,4]");
    CU_ASSERT_STRING_EQUAL(snnc_dims_str(0, dims, buf, sizeof buf), "[]");
}

static CU_TestInfo tests[] = {
    {"shape count overflow and empties", test_shape_count},
    {"absurd sizes refused before allocating", test_new_refuses_absurd},
    {"conversions", test_convert},
    {"dims string", test_dims_str},
    CU_TEST_INFO_NULL,
};
SNNC_TEST_MAIN("tensor")
