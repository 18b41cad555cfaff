/* SPDX-License-Identifier: Apache-2.0 */
/* dtoa.c: doubles as Python's repr() writes them (the shortest text that reads back to the same double, fixed
 * notation for decimal exponents -4..16, else d.ddde+XX), which is what MLflow answers. Must not allocate. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/buf.h"

typedef unsigned __int128 u128;

#define E19 UINT64_C(10000000000000000000)

/* 10^k for 0 <= k <= 22, the range the fast path uses; constant, so no first-call initialisation to race on. */
static const u128 POW10[23] = {
	UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000), UINT64_C(100000), UINT64_C(1000000),
	UINT64_C(10000000), UINT64_C(100000000), UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
	UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000), UINT64_C(1000000000000000),
	UINT64_C(10000000000000000), UINT64_C(100000000000000000), UINT64_C(1000000000000000000), E19,
	(u128)E19 * 10, (u128)E19 * 100, (u128)E19 * 1000,
};

/* The shortest round-tripping digits of x > 0 by exact 128-bit integer arithmetic: x = m * 2^-s, and for
 * p = 15, 16, 17 the correctly rounded p-digit decimal D * 10^-k is tested against the rounding interval of x,
 * (m - 1/2, m + 1/2) * 2^-s (ends included when m is even, as round-half-even reads them back). Only for
 * normal doubles with 0 < s <= 70, 0 <= k <= 22 and m not a power of two (an asymmetric interval), which covers
 * about 4e-6 <= x < 4.5e15; anything else returns false and takes the slow path. */
static int fast_digits(double x, char *digits, int *decpt)
{
	uint64_t bits;
	memcpy(&bits, &x, sizeof bits);
	int be = (int)(bits >> 52 & 0x7ff);
	uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
	if (be == 0 || be == 0x7ff || frac == 0)
		return 0;
	uint64_t m = frac | UINT64_C(1) << 52;
	int s = 1075 - be;
	if (s <= 0 || s > 70)
		return 0;
	int q = (int)floor(log10(x)); /* decimal exponent of the first digit; corrected below */
	for (int tries = 0; tries < 3; tries++) {
		int k = 16 - q;
		if (k < 0 || k > 22)
			return 0;
		u128 d = ((u128)m * POW10[k]) >> s;
		if (d < POW10[16])
			q--;
		else if (d >= POW10[17])
			q++;
		else
			break;
	}
	for (int p = 15; p <= 17; p++) {
		int k = p - 1 - q;
		if (k < 0 || k > 22)
			return 0;
		u128 n = (u128)m * POW10[k];
		u128 d = n >> s, rem = n - (d << s), half = (u128)1 << (s - 1);
		if (rem > half || (rem == half && (d & 1)))
			d++;
		if (d < POW10[p - 1] || d > POW10[p])
			return 0; /* q is off: let the slow path decide */
		u128 v = d << (s + 1), scale = POW10[k];
		u128 lo = (u128)(2 * m - 1) * scale, hi = (u128)(2 * m + 1) * scale;
		int inside = (v > lo && v < hi) || ((v == lo || v == hi) && (m & 1) == 0);
		if (!inside)
			continue;
		char tmp[24];
		int len = 0;
		for (uint64_t t = (uint64_t)d; t > 0; t /= 10) /* d <= 10^17: 64-bit division, not 128 */
			tmp[len++] = (char)('0' + (int)(t % 10));
		*decpt = q + 1 + (len - p); /* d == 10^p moved the point one place */
		int nd = 0;
		for (int i = len - 1; i >= 0; i--)
			digits[nd++] = tmp[i];
		while (nd > 1 && digits[nd - 1] == '0')
			nd--;
		digits[nd] = '\0';
		return nd;
	}
	return 0;
}

static int parse_exp(const char *c) /* [+-]digits */
{
	int sign = *c == '-' ? -1 : 1, v = 0;
	if (*c == '-' || *c == '+')
		c++;
	for (; *c >= '0' && *c <= '9'; c++)
		v = v * 10 + (*c - '0');
	return sign * v;
}

/* The same digits through printf and strtod (any finite x > 0). */
static int slow_digits(double x, char *digits, int *decpt)
{
	char buf[40];
	/* 15 digits always read back for normal doubles, so nothing shorter needs trying; subnormals hold fewer
	 * significant bits (5e-324 is one digit) */
	for (int p = x < 2.2250738585072014e-308 ? 1 : 15; p <= 17; p++) {
		snprintf(buf, sizeof buf, "%.*e", p - 1, x);
		if (p < 17 && strtod(buf, NULL) != x)
			continue;
		/* buf: d.ddddde[+-]XX */
		int nd = 0;
		const char *c = buf;
		for (; *c && *c != 'e'; c++)
			if (*c >= '0' && *c <= '9')
				digits[nd++] = *c;
		while (nd > 1 && digits[nd - 1] == '0')
			nd--;
		digits[nd] = '\0';
		*decpt = (*c == 'e' ? parse_exp(c + 1) : 0) + 1;
		return nd;
	}
	return 0;
}

int mt_format_double(char *out, size_t cap, double d)
{
	if (!isfinite(d))
		return snprintf(out, cap, "%g", d);
	if (d == 0)
		return snprintf(out, cap, "%s", signbit(d) ? "-0.0" : "0.0");
	if (d == floor(d) && fabs(d) < 1e16)
		return snprintf(out, cap, "%lld.0", (long long)d);
	char digits[24];
	int decpt = 0;
	double a = fabs(d);
	int nd = fast_digits(a, digits, &decpt);
	if (nd == 0)
		nd = slow_digits(a, digits, &decpt);
	char buf[48];
	int o = 0;
	if (d < 0)
		buf[o++] = '-';
	if (decpt > 16 || decpt <= -4) { /* d.ddde+XX, at least two exponent digits */
		buf[o++] = digits[0];
		if (nd > 1) {
			buf[o++] = '.';
			for (int i = 1; i < nd; i++)
				buf[o++] = digits[i];
		}
		o += snprintf(buf + o, sizeof buf - (size_t)o, "e%c%02d", decpt - 1 < 0 ? '-' : '+', abs(decpt - 1));
	} else if (decpt <= 0) { /* 0.000ddd */
		buf[o++] = '0';
		buf[o++] = '.';
		for (int i = 0; i < -decpt; i++)
			buf[o++] = '0';
		for (int i = 0; i < nd; i++)
			buf[o++] = digits[i];
	} else { /* ddd.ddd, or ddd000.0 */
		for (int i = 0; i < decpt; i++)
			buf[o++] = i < nd ? digits[i] : '0';
		buf[o++] = '.';
		if (nd > decpt)
			for (int i = decpt; i < nd; i++)
				buf[o++] = digits[i];
		else
			buf[o++] = '0';
	}
	buf[o] = '\0';
	if (cap == 0)
		return o;
	size_t n = (size_t)o < cap ? (size_t)o : cap - 1; /* snprintf's contract: truncate, return the full length */
	memcpy(out, buf, n);
	out[n] = '\0';
	return o;
}
