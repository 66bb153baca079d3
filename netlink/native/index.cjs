'use strict';
// Loads the compiled addon. Typed and wrapped by netlink/socket-options.ts and
// netlink/rtnetlink/channel.ts; nothing else should require this directly.
module.exports = require('./build/Release/rack_agent_native.node');
