/* SPDX-License-Identifier: Apache-2.0 */
/* ssrf.c: which addresses a webhook may reach (classification of the connected peer, with IPv6 transition forms
 * decoded) and MLflow's URL check at create/update. Opens no connection. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "mltrackd/config.h"
#include "mltrackd/webhooks.h"

static enum wh_addr_class classify4(uint32_t a) /* host order */
{
	uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16);
	if (a == 0xA9FEA9FEu || a == 0x646464C8u)
		return WH_ADDR_METADATA;
	if (b0 == 127)
		return WH_ADDR_LOOPBACK;
	if (b0 == 169 && b1 == 254)
		return WH_ADDR_LINK_LOCAL;
	if (b0 == 10 || (b0 == 172 && (b1 & 0xF0) == 16) || (b0 == 192 && b1 == 168) || (b0 == 100 && (b1 & 0xC0) == 64))
		return WH_ADDR_PRIVATE;
	if (b0 == 0 || b0 >= 224 || (b0 == 192 && b1 == 0 && (uint8_t)(a >> 8) == 0) ||
	    (b0 == 198 && (b1 & 0xFE) == 18) || (b0 == 192 && b1 == 0 && (uint8_t)(a >> 8) == 2) ||
	    (b0 == 198 && b1 == 51 && (uint8_t)(a >> 8) == 100) || (b0 == 203 && b1 == 0 && (uint8_t)(a >> 8) == 113))
		return WH_ADDR_RESERVED;
	return WH_ADDR_PUBLIC;
}

static enum wh_addr_class classify6(const unsigned char *p)
{
	static const unsigned char zero10[10] = {0};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char metadata6[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
	uint32_t v4;
	/* ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), 64:ff9b::a.b.c.d (NAT64) */
	if ((memcmp(p, zero10, 10) == 0 && ((p[10] == 0xff && p[11] == 0xff) || (p[10] == 0 && p[11] == 0))) ||
	    memcmp(p, nat64, 12) == 0) {
		bool all_zero_prefix = memcmp(p, zero10, 10) == 0 && p[10] == 0 && p[11] == 0;
		memcpy(&v4, p + 12, 4);
		v4 = ntohl(v4);
		if (all_zero_prefix && v4 <= 1) /* :: and ::1 */
			return v4 == 1 ? WH_ADDR_LOOPBACK : WH_ADDR_RESERVED;
		return classify4(v4);
	}
	if (p[0] == 0x20 && p[1] == 0x02) { /* 6to4 2002:AABB:CCDD::/48 */
		memcpy(&v4, p + 2, 4);
		return classify4(ntohl(v4));
	}
	if (memcmp(p, metadata6, 16) == 0)
		return WH_ADDR_METADATA;
	if (p[0] == 0xfe && (p[1] & 0xC0) == 0x80)
		return WH_ADDR_LINK_LOCAL;
	if ((p[0] & 0xFE) == 0xfc)
		return WH_ADDR_PRIVATE;
	if (p[0] == 0xff || (p[0] == 0x20 && p[1] == 0x01 && p[2] == 0x0d && p[3] == 0xb8) || (p[0] & 0xE0) != 0x20)
		return WH_ADDR_RESERVED; /* multicast, documentation, anything outside 2000::/3 */
	return WH_ADDR_PUBLIC;
}

enum wh_addr_class wh_addr_classify(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return classify4(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6)
		return classify6(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return WH_ADDR_RESERVED;
}

bool wh_addr_allowed(const struct sockaddr *sa, bool allow_private)
{
	enum wh_addr_class c = wh_addr_classify(sa);
	return c == WH_ADDR_PUBLIC || (allow_private && (c == WH_ADDR_LOOPBACK || c == WH_ADDR_PRIVATE));
}

const char *wh_addr_class_name(enum wh_addr_class c)
{
	switch (c) {
	case WH_ADDR_PUBLIC: return "public";
	case WH_ADDR_LOOPBACK: return "loopback";
	case WH_ADDR_PRIVATE: return "private";
	case WH_ADDR_LINK_LOCAL: return "link-local";
	case WH_ADDR_METADATA: return "cloud metadata";
	default: return "reserved";
	}
}

static bool scheme_allowed(const char *list, const char *scheme)
{
	size_t n = strlen(scheme);
	for (const char *p = list; *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t k = strcspn(p, ", ");
		if (k == n && n > 0 && strncasecmp(p, scheme, n) == 0)
			return true;
		p += k;
	}
	return false;
}

enum mt_error wh_validate_url(const struct mt_config *cfg, const char *url, struct mt_err *err)
{
	const char *p = url;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (!*p)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Webhook URL cannot be empty or just whitespace: '%.200s'",
		               url);
	const char *schemes = cfg->webhook_allowed_schemes ? cfg->webhook_allowed_schemes : "https";
	char scheme[16] = "";
	const char *colon = strstr(url, "://");
	if (colon && (size_t)(colon - url) < sizeof scheme) {
		memcpy(scheme, url, (size_t)(colon - url));
		scheme[colon - url] = '\0';
	}
	if (!scheme_allowed(schemes, scheme)) {
		/* MLflow lists them joined by ", " */
		char list[256] = "";
		size_t o = 0;
		for (const char *p2 = schemes; *p2 && o < sizeof list - 3;) {
			while (*p2 == ',' || *p2 == ' ')
				p2++;
			size_t k = strcspn(p2, ", ");
			if (k == 0)
				break;
			if (o)
				o += (size_t)snprintf(list + o, sizeof list - o, ", ");
			o += (size_t)snprintf(list + o, sizeof list - o, "%.*s", (int)k, p2);
			p2 += k;
		}
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid webhook URL scheme: '%.15s'. Allowed schemes are: %s.",
		               scheme, list);
	}
	const char *after = strstr(url, "://");
	if (after && (after[3] == '/' || after[3] == '\0' || after[3] == '?' || after[3] == '#'))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Webhook URL must include a hostname: '%.200s'", url);
	CURLU *u = curl_url();
	char *host = NULL;
	enum mt_error rc = MT_OK;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
		rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Webhook URL must include a hostname: '%.200s'", url);
		goto out;
	}
	/* [v6] literal: strip the brackets for the resolver */
	char h[256];
	size_t hl = strlen(host);
	if (hl >= sizeof h) {
		rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Webhook URL host is too long");
		goto out;
	}
	if (host[0] == '[' && hl > 2) {
		memcpy(h, host + 1, hl - 2);
		h[hl - 2] = '\0';
	} else {
		memcpy(h, host, hl + 1);
	}
	/* As MLflow: with private addresses allowed, names are not resolved here (the connected peer is still checked
	 * at delivery); a literal address that is never allowed (link-local, metadata) is refused at once. */
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	if (cfg->webhook_allow_private) {
		hints.ai_flags = AI_NUMERICHOST;
		if (getaddrinfo(h, NULL, &hints, &res) != 0 || !res)
			goto out;
	} else if (getaddrinfo(h, NULL, &hints, &res) != 0 || !res) {
		rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Cannot resolve Webhook URL hostname '%.200s'", h);
		goto out;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (!wh_addr_allowed(ai->ai_addr, cfg->webhook_allow_private)) {
			char ip[INET6_ADDRSTRLEN] = "?";
			const void *src = ai->ai_family == AF_INET
			                      ? (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr
			                      : (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
			inet_ntop(ai->ai_family, src, ip, sizeof ip);
			rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			             "Webhook URL must not resolve to a non-public IP address. '%.200s' resolves to %s (%s).", h,
			             ip, wh_addr_class_name(wh_addr_classify(ai->ai_addr)));
			break;
		}
	}
	freeaddrinfo(res);
out:
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}
