// Package awsreq keeps aws-sdk-go-v2's requests from breaking the
// connection their own answer is still being read from. Every aws.Config
// Vigil builds (awsenv for AWS, awsemu for the emulator) installs it.
//
// The fault, in smithy-go v1.28.9 and Go 1.26's net/http together:
//
//  1. smithy-go sends a request body as a "safe" ReadCloser
//     (transport/http/internal/io.NewSafeReadCloser). When the body
//     underneath implements io.WriterTo, as the bytes.Reader the SDK's
//     serializers build does, the safe wrapper exposes WriteTo too, and
//     that WriteTo returns io.EOF, as an error, once the wrapper is closed.
//  2. smithy-go's ClientHandler closes that body as soon as
//     http.Client.Do returns, which is when the answer's headers have
//     arrived, not when the transport has finished with the request.
//  3. net/http's transport writes the body in its own goroutine
//     (persistConn.writeLoop). Once Content-Length bytes are on the wire it
//     copies the rest of the body to io.Discard to check that there is no
//     more (transferWriter.writeBody). io.Copy hands that to the body's
//     WriteTo and passes io.EOF on as an error; writeBody does not count
//     io.EOF as a failed body read, so the transport takes it for a failed
//     write and closes the connection (persistConn.close).
//
// When the writeLoop goroutine is not scheduled between sending the
// body and that last check for long enough that the server answers and
// Do returns meanwhile (a loaded machine; the emulator answers in
// microseconds), the connection is closed under the answer being read.
// An answer larger than the transport's 4 KiB read buffer is then cut:
// the SDK sees "use of closed network connection" and sends the request
// again. A retried IAM page is only wasted work, but a retried SQS
// ReceiveMessage loses the messages the first attempt took until their
// visibility timeout ends (a 60 s stall of the root-event consumer).
//
// The bridge hides WriteTo: the body the transport gets reads only, so
// after the close its last check reads io.EOF, which io.Copy takes as the
// end of the body, as intended. Remove it when smithy-go's closed body
// reports the end from WriteTo as io.Copy expects (nil), or no longer
// closes it before the transport is done; TestClosedBodyKeepsConnection
// says which.
package awsreq
