package collect

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// RootInventory lists the root user's own credentials with calls that name
// no user: IAM then acts on the signing principal, which is root in an
// sts:AssumeRoot session or when signed with root's own key. Never pass a
// user name of "root": root is not an IAM user.
//
// GetLoginProfile without a user name is only allowed in an AssumeRoot
// session, so loginProfile says whether to ask.
func RootInventory(ctx context.Context, c RootInventoryIAM, loginProfile bool) (*snapshot.RootCredentials, []snapshot.Gap) {
	inv := &snapshot.RootCredentials{}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		gaps []snapshot.Gap
	)
	fail := func(call string, err error) {
		mu.Lock()
		gaps = append(gaps, gap(snapshot.SectionRootCredentials, call, err))
		mu.Unlock()
	}
	wg.Add(3)
	spawn(func() {
		defer wg.Done()
		keys, err := rootAccessKeys(ctx, c)
		if err != nil {
			fail("iam:ListAccessKeys", err)
			return
		}
		// Last use per key, concurrently: at most two keys exist.
		var kw sync.WaitGroup
		for i := range keys {
			kw.Add(1)
			spawn(func() {
				defer kw.Done()
				out, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keys[i].ID)})
				if err != nil {
					fail("iam:GetAccessKeyLastUsed", err)
					return
				}
				keys[i].LastUsed = keyUse(out.AccessKeyLastUsed)
			})
		}
		kw.Wait()
		inv.AccessKeys = keys
	})
	spawn(func() {
		defer wg.Done()
		certs, err := rootCertificates(ctx, c)
		if err != nil {
			fail("iam:ListSigningCertificates", err)
			return
		}
		inv.SigningCertificates = certs
	})
	spawn(func() {
		defer wg.Done()
		devs, err := rootMFADevices(ctx, c)
		if err != nil {
			fail("iam:ListMFADevices", err)
			return
		}
		inv.MFADevices = devs
	})
	if loginProfile {
		wg.Add(1)
		spawn(func() {
			defer wg.Done()
			out, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
			var none *iamtypes.NoSuchEntityException
			switch {
			case errors.As(err, &none):
				inv.LoginProfile = &snapshot.LoginProfile{Present: false}
			case err != nil:
				fail("iam:GetLoginProfile", err)
			default:
				lp := &snapshot.LoginProfile{Present: true}
				if out.LoginProfile != nil {
					lp.CreateDate = utc(out.LoginProfile.CreateDate)
				}
				inv.LoginProfile = lp
			}
		})
	}
	wg.Wait()
	return inv, gaps
}

func rootAccessKeys(ctx context.Context, c RootInventoryIAM) ([]snapshot.AccessKey, error) {
	keys := []snapshot.AccessKey{}
	p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{MaxItems: aws.Int32(iamMaxItems)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, k := range page.AccessKeyMetadata {
			keys = append(keys, snapshot.AccessKey{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), CreateDate: utc(k.CreateDate)})
		}
	}
	return keys, nil
}

func rootCertificates(ctx context.Context, c RootInventoryIAM) ([]snapshot.SigningCert, error) {
	certs := []snapshot.SigningCert{}
	p := iam.NewListSigningCertificatesPaginator(c, &iam.ListSigningCertificatesInput{MaxItems: aws.Int32(iamMaxItems)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, k := range page.Certificates {
			certs = append(certs, snapshot.SigningCert{ID: aws.ToString(k.CertificateId), Status: string(k.Status), UploadDate: utc(k.UploadDate)})
		}
	}
	return certs, nil
}

func rootMFADevices(ctx context.Context, c RootInventoryIAM) ([]snapshot.MFADevice, error) {
	devs := []snapshot.MFADevice{}
	p := iam.NewListMFADevicesPaginator(c, &iam.ListMFADevicesInput{MaxItems: aws.Int32(iamMaxItems)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range page.MFADevices {
			serial := aws.ToString(d.SerialNumber)
			devs = append(devs, snapshot.MFADevice{Serial: serial, Type: MFATypeOf(serial), EnableDate: utc(d.EnableDate)})
		}
	}
	return devs, nil
}

// MFATypeOf tells the device type from its serial: virtual devices are IAM
// ARNs with an mfa/ resource, FIDO security keys and passkeys ARNs with a
// u2f/ resource, and hardware TOTP tokens plain serial numbers.
func MFATypeOf(serial string) snapshot.MFAType {
	switch {
	case strings.HasPrefix(serial, "arn:") && strings.Contains(serial, ":mfa/"):
		return snapshot.MFAVirtual
	case strings.HasPrefix(serial, "arn:") && strings.Contains(serial, ":u2f/"):
		return snapshot.MFAFIDO
	case strings.HasPrefix(serial, "arn:"):
		return snapshot.MFAUnknown
	case serial == "":
		return snapshot.MFAUnknown
	}
	return snapshot.MFAHardware
}

func keyUse(u *iamtypes.AccessKeyLastUsed) *snapshot.KeyUse {
	if u == nil {
		return &snapshot.KeyUse{}
	}
	clean := func(s *string) string {
		v := aws.ToString(s)
		if v == "N/A" {
			return ""
		}
		return v
	}
	return &snapshot.KeyUse{Date: utc(u.LastUsedDate), Region: clean(u.Region), Service: clean(u.ServiceName)}
}
