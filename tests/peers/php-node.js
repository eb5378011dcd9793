// php-node.js (--pre-js of the PHP builds, tools/lib/php.py): PHP under node, two adjustments
// made before main runs.
//
// 1. Node's own stdin, stdout and stderr stay open when PHP closes its STDIN, STDOUT and STDERR.
//    With -sNODERAWFS the program's descriptors 0-2 are the node process's: PHP's CLI closes its
//    three standard streams at shutdown, which would close node's, and peer-report.js could then
//    no longer print the PEER-COUNTS line when node exits. Here closing one of them only removes
//    it from the program's descriptor table (the program's later reads and writes on it fail with
//    EBADF, as on a closed descriptor); node's descriptor stays open.
// 2. The environment PHP sees: emscripten does not pass node's environment to getenv. When node's
//    environment has PHP_ENV (a JSON object of names and values), those variables are set for
//    the program (tools/lib/phpt.py passes USE_ZEND_ALLOC=1 and a test's --ENV-- section).
// 3. fstat of node's own descriptors (emscripten 6.0.5): NODERAWFS's fstat reads
//    stream.node.node_ops of a stream that has no node (the descriptors it opened on node's) and
//    throws a TypeError, which ends PHP's CLI when it looks at its standard streams. Such a stream
//    is answered with node's fstat of its descriptor, as the same function means to.
Module['preRun'] = [].concat(Module['preRun'] || [], function () {
  var fstat = FS.fstat;
  FS.fstat = function (fd) {
    var stream = FS.getStream(fd);
    if (stream && !stream.stream_ops && !stream.node && typeof stream.nfd === 'number') {
      return require('fs').fstatSync(stream.nfd);
    }
    return fstat(fd);
  };
  var close = FS.close;
  FS.close = function (stream) {
    if (!stream.stream_ops && stream.nfd >= 0 && stream.nfd <= 2) {
      FS.closeStream(stream.fd);
      return;
    }
    return close(stream);
  };
  if (typeof ENV === 'object' && process.env.PHP_ENV) {
    Object.assign(ENV, JSON.parse(process.env.PHP_ENV));
  }
});
