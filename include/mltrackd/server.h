/* SPDX-License-Identifier: Apache-2.0 */
/* server.h: building and tearing down the server context (store opened, default experiment present,
 * artifact root resolved); shared by the daemon and the in-process tests. */
#ifndef MLTRACKD_SERVER_H
#define MLTRACKD_SERVER_H

#include "mltrackd/config.h"
#include "mltrackd/error.h"

enum mt_error mt_server_init(struct mt_server *srv, const struct mt_config *cfg, struct mt_err *err);
void mt_server_close(struct mt_server *srv);

#endif
