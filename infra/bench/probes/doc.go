// Package probes holds dependency probes for infra/bench/coldstart: tiny
// aws-lambda-go bootstraps that do at init only what the functions' init
// does with the AWS SDK, one dependency at a time, so that the cold-start
// and size figures of the functions can be split into what each dependency
// costs:
//
//   - sdk: config.LoadDefaultConfig + DynamoDB and S3 clients (what every
//     function needs);
//   - sdkssm: the same plus an SSM client (what shared/config links into
//     every function);
//   - sdklean: DynamoDB and S3 clients over an aws.Config built from the
//     environment alone (region, credentials, endpoints), without the
//     config package and its credential chain (SSO, STS, IMDS, ...).
package probes
